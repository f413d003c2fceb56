// The rules behind browser sign-in one by one: redirect URI registration, client:add's flags,
// ID token hints that must not count, a disabled user or client, lifetimes, store failures.
import { createPrivateKey, sign } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { redirectUriProblem, redirectUriRegistered } from '../../services/auth/store/clients.js'
import { activeKeyOf, runCli, testDir } from '../helper.js'
import { authorizeUrl, browser, csrfOf, pkce, signInThroughForm, startSignIn, tokenRequest, webParams, WEB_REDIRECT, type SignInApp } from './helpers.js'

const codeOf = (location: string | undefined) => new URL(location!).searchParams.get('code')!

t.test('redirect URIs: https, or http on 127.0.0.1 / [::1]; exact strings; only a public client\'s loopback port varies', async (t) => {
  t.equal(redirectUriProblem('https://app.example/cb'), undefined)
  t.equal(redirectUriProblem('http://127.0.0.1:3005/callback'), undefined)
  t.equal(redirectUriProblem('http://[::1]/cb'), undefined)
  t.match(redirectUriProblem('http://localhost:3005/callback'), /https, or http on the loopback address/)
  t.match(redirectUriProblem('http://app.example/cb'), /https, or http on the loopback/)
  t.match(redirectUriProblem('javascript:alert(1)'), /https, or http/)
  t.match(redirectUriProblem('not a url'), /is not an absolute URL/)
  t.match(redirectUriProblem('https://app.example/cb#x'), /no fragment/)
  t.match(redirectUriProblem('https://user:pw@app.example/cb'), /no user name or password/)
  t.match(redirectUriProblem(`https://app.example/${'a'.repeat(600)}`), /at most 512/)
  t.ok(redirectUriRegistered('http://127.0.0.1/cb', 'http://127.0.0.1:4321/cb', true))
  t.ok(redirectUriRegistered('http://[::1]:80/cb', 'http://[::1]:4321/cb', true))
  t.notOk(redirectUriRegistered('http://127.0.0.1/cb', 'http://127.0.0.1:4321/cb', false), 'not for a confidential client')
  t.notOk(redirectUriRegistered('http://127.0.0.1/cb', 'http://127.0.0.1:4321/cb/', true), 'the rest is exact')
  t.notOk(redirectUriRegistered('https://a.example/cb', 'https://a.example:443/cb', true), 'https: exact')
  t.notOk(redirectUriRegistered('http://127.0.0.1/cb', undefined, true))
})

t.test('the store refuses clients browser sign-in could not use safely', async (t) => {
  const app = await startSignIn(t)
  const base = { name: 'x', scopes: ['openid'], audiences: ['ssot-api'] }
  await t.rejects(app.store.clients.create({ ...base, clientId: 'a', redirectUris: ['http://evil.example/cb'] }), { code: 'AUTH_CLIENT_REDIRECT_URI_INVALID' })
  await t.rejects(app.store.clients.create({ ...base, clientId: 'b', public: true }), { code: 'AUTH_CLIENT_REDIRECT_URI_INVALID', message: /public client needs at least one redirect URI/ })
  await t.rejects(app.store.clients.create({ ...base, clientId: 'c', redirectUris: ['https://a.example/cb'], postLogoutRedirectUris: ['ftp://a.example/'] }), { code: 'AUTH_CLIENT_REDIRECT_URI_INVALID' })
  const machine = await app.store.clients.create({ ...base, clientId: 'machine' })
  t.type(machine.clientSecret, 'string')
  const page = await browser().get(authorizeUrl(app.url, { ...webParams(pkce().challenge), client_id: 'machine' }))
  t.match(page.text, 'SIGN_IN_INVALID_CLIENT', 'a client without redirect URIs cannot start a sign-in')
  const long = await browser().get(authorizeUrl(app.url, { ...webParams(pkce().challenge), client_id: 'c'.repeat(200) }))
  t.match(long.text, 'SIGN_IN_INVALID_CLIENT')
})

t.test('npm run client:add: --redirect-uris, --post-logout-redirect-uris, --public; the secret is the last line', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'cli.sqlite')}` }
  const web = await runCli('client-add', ['web', '--redirect-uris', 'https://app.example/cb', '--post-logout-redirect-uris', 'https://app.example/', '--scopes', 'openid,profile,offline_access'], env)
  t.equal(web.code, 0, web.stderr)
  t.match(web.stdout.trim().split('\n').at(-1), /^[\w-]{43}$/, 'the secret, alone on the last line')
  const spa = await runCli('client-add', ['spa', '--public', '--redirect-uris', 'http://127.0.0.1/cb', '--scopes', 'openid'], env)
  t.equal(spa.code, 0, spa.stderr)
  t.match(spa.stdout, 'Public client spa created: no secret')
  const refusals = await Promise.all([
    runCli('client-add', ['x', '--public', '--scopes', 'openid'], env),
    runCli('client-add', ['x', '--post-logout-redirect-uris', 'https://a.example/', '--scopes', 'openid'], env),
    runCli('client-add', ['x', '--redirect-uris', 'http://app.example/cb', '--scopes', 'openid'], env)
  ])
  t.match(refusals[0], { code: 2, stderr: /--public needs --redirect-uris/ })
  t.match(refusals[1], { code: 2, stderr: /--post-logout-redirect-uris needs --redirect-uris/ })
  t.match(refusals[2], { code: 2, stderr: /https, or http on the loopback address/ })
})

/** A JWT signed with the issuer's active key, with any header and claims. */
async function forge (app: SignInApp, header: Record<string, unknown>, claims: Record<string, unknown>) {
  const { kid, privatePem } = await activeKeyOf(app.keysDir)
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid, ...header })}.${part(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(privatePem)).toString('base64url')}`
}

t.test('end-session: hints that do not count, and a hint naming another user\'s session', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { verifier, challenge } = pkce()
  const done = await signInThroughForm(app, b, webParams(challenge))
  const tokens = (await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])).body
  const good = { iss: app.url, sub: 'someone', aud: 'web' }
  for (const [name, header, claims] of [
    ['another issuer', {}, { ...good, iss: 'https://other.example' }],
    ['no sub', {}, { iss: app.url, aud: 'web' }],
    ['an audience list', {}, { ...good, aud: ['web'] }],
    ['typ at+jwt', { typ: 'at+jwt' }, good],
    ['an unknown kid', { kid: 'nope' }, good],
    ['alg none', { alg: 'none' }, good]
  ] as const) {
    const page = await b.get(`${app.url}/end-session?id_token_hint=${await forge(app, header, claims)}`)
    t.equal(page.status, 400, name)
  }
  const sid = (await app.store.db.selectFrom('browser_sessions').select('id').executeTakeFirstOrThrow()).id
  const stranger = await b.get(`${app.url}/end-session?id_token_hint=${await forge(app, {}, { ...good, sid })}`)
  t.equal(stranger.status, 200, 'a hint for another user ends nothing of this one')
  const still = await fetch(`${app.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(still.status, 200)
  const noSid = await b.get(`${app.url}/end-session?id_token_hint=${await forge(app, {}, { ...good, sub: (await app.store.users.findByUsername('alice'))!.id })}`)
  t.equal(noSid.status, 200, 'a hint without sid ends this browser\'s session of that user')
  t.equal(await app.store.db.selectFrom('browser_sessions').select('id').executeTakeFirst(), undefined)
  const other = browser()
  await signInThroughForm(app, other, webParams(challenge))
  const anonymous = await other.get(`${app.url}/end-session`)
  t.match(anonymous.text, /Do you want to sign out\?/, 'no client named: a plain question')
  const confirmed = await browser().post(`${app.url}/end-session`, { confirm: 'yes', csrf_token: 'x' })
  t.equal(confirmed.status, 200, 'confirming without a session: already signed out')
})

t.test('a disabled user or client: no session, no userinfo, no refresh', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { verifier, challenge } = pkce()
  const done = await signInThroughForm(app, b, webParams(challenge))
  const tokens = (await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])).body
  await app.store.db.updateTable('clients').set({ disabled: 1 }).where('client_id', '=', 'web').execute()
  const refresh = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, ['web', app.webSecret])
  t.equal(refresh.status, 401, 'a disabled client cannot authenticate')
  await app.store.db.updateTable('clients').set({ disabled: 0 }).where('client_id', '=', 'web').execute()
  const second = await signInThroughForm(app, b, webParams(challenge, { prompt: 'login' }))
  await app.store.db.updateTable('users').set({ disabled: 1 }).execute()
  const info = await fetch(`${app.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(info.status, 401)
  t.match(info.headers.get('www-authenticate'), /error="invalid_token"/)
  const code = await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(second.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])
  t.equal(code.body.error, 'invalid_grant', 'a code of a user disabled since')
  const sso = await b.get(authorizeUrl(app.url, webParams(challenge)))
  t.equal(sso.location, '/sign-in', 'a disabled user\'s browser session does not count')
})

t.test('the refresh of a public client needs only its id; a client removed since refreshes nothing', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { verifier, challenge } = pkce()
  const done = await signInThroughForm(app, b, { ...webParams(challenge), client_id: 'spa', redirect_uri: 'http://127.0.0.1:4000/cb' })
  const tokens = (await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: 'http://127.0.0.1:4000/cb', code_verifier: verifier, client_id: 'spa' })).body
  const refreshed = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'spa' })
  t.equal(refreshed.status, 200)
  const webSignIn = await signInThroughForm(app, b, webParams(challenge))
  const web = (await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(webSignIn.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])).body
  const clients = app.store.clients
  const find = clients.find
  clients.find = async () => undefined
  t.teardown(() => { clients.find = find })
  const gone = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: web.refresh_token }, ['web', app.webSecret])
  t.equal(gone.body.error, 'invalid_grant', 'a client gone between authentication and refresh')
})

t.test('browser sessions: the idle end moves, never past the absolute end; expired ones are purged', async (t) => {
  const app = await startSignIn(t, { BROWSER_SESSION_IDLE_TTL: '1h', BROWSER_SESSION_TTL: '2h' })
  const { session, token } = await app.store.signIn.sessions.start((await app.store.users.findByUsername('alice'))!.id)
  const soon = new Date(Date.now() + 60_000).toISOString()
  await app.store.db.updateTable('browser_sessions').set({ expires_at: soon }).where('id', '=', session.id).execute()
  t.ok(await app.store.signIn.sessions.use(token))
  const row = await app.store.db.selectFrom('browser_sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow()
  t.equal(row.idle_expires_at, soon, 'capped at the absolute end')
  const later = new Date(Date.now() + 3 * 3600_000)
  t.equal(await app.store.signIn.sessions.use(token, later), undefined, 'over')
  await app.store.signIn.attempts.create({}, new Date(Date.now() - 3600_000))
  t.equal(await app.store.signIn.purgeExpired(later), 2, 'the session and the old attempt')
  t.throws(() => startSignInConfig('30s'), /BROWSER_SESSION_IDLE_TTL must be at least 1m/)
})

function startSignInConfig (idle: string) {
  return authAppOptions(loadAuthEnv({ BROWSER_SESSION_IDLE_TTL: idle }))
}

t.test('a store failure shows a page that says so (503 with Retry-After); a form used twice signs in once', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  await b.get(authorizeUrl(app.url, webParams(challenge)))
  const form = await b.get(`${app.url}/sign-in`)
  const attempts = app.store.signIn.attempts
  const { find, finish } = attempts
  t.teardown(() => Object.assign(attempts, { find, finish }))
  attempts.find = async () => { throw Object.assign(new Error('connection refused'), { statusCode: 503 }) }
  const down = await b.get(`${app.url}/sign-in`)
  t.equal(down.status, 503)
  t.ok(down.headers.get('retry-after'))
  t.match(down.text, /SERVICE_UNAVAILABLE/)
  attempts.find = async () => { throw new Error('a bug') }
  const bug = await b.get(`${app.url}/sign-in`)
  t.equal(bug.status, 500)
  t.notMatch(bug.text, /a bug/, 'no detail')
  attempts.find = find
  const { attempt } = app.passwordLogin
  t.teardown(() => Object.assign(app.passwordLogin, { attempt }))
  app.passwordLogin.attempt = async () => { throw new Error('the hashing pool is gone') }
  const failed = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrfOf(form.text) })
  t.equal(failed.status, 500)
  app.passwordLogin.attempt = attempt
  attempts.finish = async () => false
  const twice = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrfOf(form.text) })
  t.equal(twice.status, 403)
  t.match(twice.text, 'SIGN_IN_EXPIRED')
})
