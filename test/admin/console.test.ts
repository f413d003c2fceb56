// The admin console over plain HTTP, as a browser without script would use it: sign-in through the
// hosted page, every page, confirmations, refusals (CSRF, Origin, Fetch Metadata), a stale sign-in
// sending the admin to sign in again, an ended session, sign-out.
import t from 'tap'
import type { Test } from 'tap'
import { consoleCookieNames } from '../../services/auth/admin/console/routes.js'
import { expiringMap } from '../../services/auth/admin/console/sessions.js'
import { addUser, startAuth } from '../helper.js'
import { browser, csrfOf, type Browser } from '../sign-in/helpers.js'
import { ADMIN_PASSWORD, startConsole } from './helpers.js'

async function setUp (t: Test, env: Record<string, string> = {}) {
  const auth = await startAuth(t, { REVOCATION_FEED_POLL_MS: '50', ...env })
  const admin = await startConsole(t, auth, env)
  await addUser(auth, 'root', ADMIN_PASSWORD, ['admin'])
  const b = browser()
  /** Signs in through the hosted page (or the single sign-on session); returns the callback's answer. */
  async function signIn (path = '/console/login') {
    const login = await b.get(`${admin.url}${path}`)
    const authorize = await b.get(login.location!)
    let callback = authorize.location!
    if (callback === '/sign-in') {
      const form = await b.get(`${auth.url}/sign-in`)
      callback = (await b.post(`${auth.url}/sign-in`, { username: 'root', password: ADMIN_PASSWORD, csrf_token: csrfOf(form.text) })).location!
    }
    return { login, authorize, callback: await b.get(callback) }
  }
  const csrf = async () => /name="_csrf" value="([^"]+)"/.exec((await b.get(`${admin.url}/console/keys`)).text)![1]!
  const post = (b: Browser, path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: admin.url }) =>
    b.get(`${admin.url}${path}`).then(() => fetchPost(b, `${admin.url}${path}`, fields, headers))
  return { auth, admin, b, signIn, csrf, post }
}

/** A form post with the browser's cookies and the given headers. */
async function fetchPost (b: Browser, url: string, fields: Record<string, string>, headers: Record<string, string>) {
  const cookie = [...b.jar].map(([name, value]) => `${name}=${value}`).join('; ')
  const response = await fetch(url, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers }, body: new URLSearchParams(fields)
  })
  return { status: response.status, location: response.headers.get('location') ?? undefined, text: await response.text() }
}

t.test('sign-in, pages, actions and refusals', async (t) => {
  const { auth, admin, b, signIn, csrf, post } = await setUp(t)
  for (const path of ['/', '/console']) t.equal((await b.get(`${admin.url}${path}`)).location, '/console/users')
  t.equal((await b.get(`${admin.url}/favicon.ico`)).status, 204)
  t.match((await b.get(`${admin.url}/console/assets/console.css`)).text, /body\{/)
  t.match((await b.get(`${admin.url}/console/assets/console.js`)).text, /data-autofocus/)
  t.equal((await b.get(`${admin.url}/console/users/root`)).location, '/console/login?returnTo=%2Fconsole%2Fusers%2Froot', 'signed out: to the sign-in')

  // The callback refuses what it did not start.
  t.equal((await b.get(`${admin.url}/console/callback?code=x&state=y&iss=${encodeURIComponent(auth.url)}`)).status, 400)
  const { login, callback } = await signIn('/console/login?returnTo=/console/keys')
  t.match(login.location, /\/authorize\?response_type=code&client_id=ssot-admin-console&/)
  t.match(login.location, /code_challenge_method=S256/)
  t.equal(callback.status, 200)
  t.match(callback.text, /<meta http-equiv="refresh" content="0;url=\/console\/keys">/)
  t.match((await b.get(`${admin.url}/console/keys`)).text, /Signing keys/)

  const again = await b.get(`${admin.url}/console/login`)
  const redirect = new URL((await b.get(again.location!)).location!)
  t.equal(redirect.pathname, '/console/callback', 'single sign-on: straight back')
  const state = redirect.searchParams.get('state')!
  t.equal((await b.get(`${admin.url}/console/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(auth.url)}`)).status, 400, 'an error from the sign-in')
  const retry = new URL((await b.get((await b.get(`${admin.url}/console/login`)).location!)).location!)
  retry.searchParams.set('code', 'not a code')
  t.equal((await b.get(retry.href)).status, 400, 'a code the token endpoint refuses')
  await signIn()

  // Actions: create, a refusal from the API, a confirmation, then done.
  const token = await csrf()
  const created = await post(b, '/console/users', { _csrf: token, username: 'walt', password: 'walt password 12', roles: 'editor, viewer', returnTo: '/console/users' }, { origin: admin.url })
  t.equal(created.status, 405, 'a page is no action')
  const create = (fields: Record<string, string>) => fetchPost(b, `${admin.url}/console/action/user-create`, { _csrf: token, returnTo: '/console/users', ...fields }, { origin: admin.url })
  t.equal((await create({ username: 'walt', password: 'walt password 12', roles: 'editor, viewer' })).location, '/console/users')
  t.match((await b.get(`${admin.url}/console/users`)).text, /User walt created\./)
  t.notMatch((await b.get(`${admin.url}/console/users`)).text, /User walt created\./, 'a message shows once')
  await create({ username: 'walt', password: 'walt password 12' })
  t.match((await b.get(`${admin.url}/console/users?search=wa`)).text, /exists already \(ADMIN_USER_EXISTS\)/)
  for (let i = 0; i < 20; i++) await addUser(auth, `user-${String(i).padStart(2, '0')}`, 'a password 123')
  const page1 = await b.get(`${admin.url}/console/users`)
  t.match(page1.text, /href="\/console\/users\?after=user-18">Next page/)
  t.match((await b.get(`${admin.url}/console/users?after=user-18`)).text, /user-19[\s\S]*walt/)

  const disable = { _csrf: token, username: 'walt', returnTo: '/console/users/walt' }
  const confirm = await fetchPost(b, `${admin.url}/console/action/user-disable`, disable, { origin: admin.url })
  t.equal(confirm.status, 200)
  t.match(confirm.text, /Disable walt and end every session\?/)
  t.match(confirm.text, /name="confirmed" value="yes"/)
  t.equal((await auth.store.users.findByUsername('walt'))!.disabled, 0, 'nothing yet')
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-disable`, { ...disable, confirmed: 'yes' }, { origin: admin.url })).location, '/console/users/walt')
  t.equal((await auth.store.users.findByUsername('walt'))!.disabled, 1)
  const detail = await b.get(`${admin.url}/console/users/walt`)
  t.match(detail.text, /User walt disabled/)
  t.match(detail.text, /value="editor, viewer"/, 'the roles form shows the roles')

  // Refusals: another CSRF token, another Origin, a cross-site post without Origin, no session.
  const enable = { username: 'walt', returnTo: '/console/users' }
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-enable`, { ...enable, _csrf: 'x' }, { origin: admin.url })).status, 403)
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-enable`, { ...enable, _csrf: token }, { origin: 'https://evil.example' })).status, 403)
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-enable`, { ...enable, _csrf: token }, { 'sec-fetch-site': 'cross-site' })).status, 403)
  t.equal((await fetchPost(browser(), `${admin.url}/console/action/user-enable`, { ...enable, _csrf: token }, { origin: admin.url })).status, 403)
  t.equal((await auth.store.users.findByUsername('walt'))!.disabled, 1, 'still disabled')
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-enable`, { ...enable, _csrf: token }, { 'sec-fetch-site': 'same-origin' })).status, 303, 'same-origin Fetch Metadata')
  t.equal((await fetchPost(b, `${admin.url}/console/action/nothing`, { _csrf: token }, {})).status, 404, 'no such action')

  // Clients, with the new secret shown once; the other pages.
  await fetchPost(b, `${admin.url}/console/action/client-create`, { _csrf: token, clientId: 'billing', scopes: 'orders:read', audiences: 'ssot-api', returnTo: '/console/clients' }, {})
  await fetchPost(b, `${admin.url}/console/action/client-create`, { _csrf: token, clientId: 'spa', scopes: 'openid', redirectUris: 'https://spa.example/cb', public: 'on', returnTo: '/console/clients' }, {})
  const clients = await b.get(`${admin.url}/console/clients?search=`)
  t.match(clients.text, /Client spa created\./)
  t.match(clients.text, /https:\/\/spa\.example\/cb/)
  t.match(clients.text, /public/)
  await fetchPost(b, `${admin.url}/console/action/client-rotate`, { _csrf: token, clientId: 'billing', confirmed: 'yes', returnTo: '/console/clients' }, {})
  t.match((await b.get(`${admin.url}/console/clients`)).text, /New secret of billing: <code class="secret">[\w-]{43}<\/code>/)
  await fetchPost(b, `${admin.url}/console/action/client-disable`, { _csrf: token, clientId: 'billing', confirmed: 'yes', returnTo: '/console/clients' }, {})
  t.match((await b.get(`${admin.url}/console/clients`)).text, /confidential, disabled[\s\S]*Enable/)
  t.match((await b.get(`${admin.url}/console/revocations`)).text, /Recent revocations/)
  for (let i = 0; i < 50; i++) await auth.store.audit.record({ actor: 'filler', action: 'test.event', target: 'x', ip: '127.0.0.1', outcome: 'success' })
  const audit = await b.get(`${admin.url}/console/audit?actor=filler`)
  t.match(audit.text, /href="\/console\/audit\?actor=filler&amp;before=\d+">Next page/)
  t.match((await b.get(`${admin.url}/console/audit?actor=root&action=user.disable`)).text, /user\.disable[\s\S]*walt[\s\S]*\{&quot;sessions&quot;:0\}/)

  // Without the admin role the API refuses, and the console says why.
  await auth.store.userAdmin.setRoles('root', [])
  const refused = await b.get(`${admin.url}/console/keys`)
  t.equal(refused.status, 403)
  t.match(refused.text, /ADMIN_ROLE_REQUIRED/)
  await auth.store.userAdmin.setRoles('root', ['admin'])

  // Sign-out.
  t.equal((await fetchPost(b, `${admin.url}/console/logout`, { _csrf: token }, { origin: admin.url })).status, 200)
  t.equal((await b.get(`${admin.url}/console/keys`)).status, 303, 'signed out')
})

t.test('a stale sign-in, and an ended session, send the admin to sign in', async (t) => {
  const { auth, admin, b, signIn, csrf } = await setUp(t, { ADMIN_MAX_AUTH_AGE: '0s' })
  await signIn()
  const token = await csrf()
  const answer = await fetchPost(b, `${admin.url}/console/action/keys-rotate`, { _csrf: token, confirmed: 'yes', force: 'on', returnTo: '/console/keys' }, { origin: admin.url })
  t.equal(answer.location, '/console/login?reauth=1&returnTo=%2Fconsole%2Fkeys')
  const login = await b.get(`${admin.url}${answer.location!}`)
  t.match(login.location, /prompt=login/, 'the password again, whatever the single sign-on session')

  // Every session of root ended: the console's token is revoked, and the next page signs in again.
  await auth.store.userAdmin.revokeSessions('root')
  let page = await b.get(`${admin.url}/console/users`)
  for (let i = 0; i < 100 && page.status === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    page = await b.get(`${admin.url}/console/users`)
  }
  t.equal(page.location, '/console/login?returnTo=%2Fconsole%2Fusers')
})

t.test('console state: expired entries and the cap', async (t) => {
  const map = expiringMap<{ expiresAt: number }>(2)
  const old = map.add({ expiresAt: Date.now() - 1 })
  t.equal(map.get(old), undefined, 'an expired entry is gone')
  const a = map.add({ expiresAt: Date.now() + 60_000 })
  const b = map.add({ expiresAt: Date.now() + 60_000 })
  map.add({ expiresAt: Date.now() + 60_000 })
  t.equal(map.get(a), undefined, 'the oldest beyond the cap is dropped')
  t.ok(map.take(b))
  t.equal(map.get(b), undefined, 'taken once')
  t.equal(map.get(undefined), undefined)
})

t.test('every console action, and the pages around them', async (t) => {
  const { auth, admin, b, signIn, csrf } = await setUp(t, { KEYS_RELOAD_INTERVAL: '0' })
  await signIn()
  const token = await csrf()
  const act = (op: string, fields: Record<string, string>) =>
    fetchPost(b, `${admin.url}/console/action/${op}`, { _csrf: token, confirmed: 'yes', returnTo: '/console/users/kim', ...fields }, { origin: admin.url })
  await act('user-create', { username: 'kim', password: 'kim password 12', temporary: 'on' })
  t.match((await b.get(`${admin.url}/console/users`)).text, /must change password/)
  // The hosted page does not sign kim in with the temporary password, and says what to do.
  const other = browser()
  await other.get((await other.get(`${admin.url}/console/login`)).location!)
  const form = await other.get(`${auth.url}/sign-in`)
  const temporary = await other.post(`${auth.url}/sign-in`, { username: 'kim', password: 'kim password 12', csrf_token: csrfOf(form.text) })
  t.equal(temporary.status, 403)
  t.match(temporary.text, /An administrator set this password for you: change it first/)
  const kim = await fetch(`${auth.url}/auth/password`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'kim', password: 'kim password 12', new_password: 'kim chose one 1' })
  })
  t.equal(kim.status, 204)
  await fetch(`${auth.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'kim', password: 'kim chose one 1' }) })
  const [session] = (await auth.store.userAdmin.sessions('kim'))!
  t.match((await b.get(`${admin.url}/console/users/kim`)).text, new RegExp(`first-party-login[\\s\\S]*name="sessionId" value="${session!.id}"`), 'kim\'s session, with its End button')
  for (const [op, fields] of [['user-delete', { username: 'kim' }], ['user-password', { username: 'kim', password: 'p' }], ['user-sessions-revoke', { username: 'kim' }],
    ['client-disable', { clientId: 'c' }], ['client-delete', { clientId: 'c' }], ['client-rotate', { clientId: 'c' }], ['keys-rotate', {}]] as const) {
    const asked = await fetchPost(b, `${admin.url}/console/action/${op}`, { _csrf: token, ...fields }, { origin: admin.url })
    t.match(asked.text, /name="confirmed" value="yes"/, `${op} asks first`)
  }
  t.match((await b.get(`${admin.url}/console/clients?search=ssot&after=a`)).text, /ssot-admin-console/)
  t.match((await b.get(`${admin.url}/console/audit?target=kim&before=999999`)).text, /user\.create/)
  const steps: Array<[string, Record<string, string>, RegExp]> = [
    ['user-session-revoke', { username: 'kim', sessionId: session!.id }, /Session ended\./],
    ['user-sessions-revoke', { username: 'kim' }, /Every session of kim ended\./],
    ['user-roles', { username: 'kim', roles: 'viewer' }, /Roles of kim saved\./],
    ['user-password', { username: 'kim', password: 'set by root 123' }, /Password of kim set\./],
    ['user-unlock', { username: 'kim' }, /Login throttling of kim cleared\./],
    ['client-create', { clientId: 'ops', scopes: 'a' }, /Client ops created\./],
    ['client-enable', { clientId: 'ops' }, /Client ops enabled\.|already/],
    ['client-delete', { clientId: 'ops' }, /Client ops deleted\./],
    ['keys-rotate', { force: 'on' }, /Keys rotated\./],
    ['user-delete', { username: 'kim', returnTo: '/console/users' }, /User kim deleted\./]
  ]
  for (const [op, fields, said] of steps) {
    const answer = await act(op, fields)
    t.equal(answer.status, 303, op)
    t.match((await b.get(`${admin.url}${answer.location!}`)).text, said, op)
  }
  t.match((await b.get(`${admin.url}/console/keys`)).text, /retired/)
  // The retired key's button: asked first, then removed from the JWKS.
  const retiredKid = /action="\/console\/action\/key-retire">[\s\S]*?name="kid" value="([\w-]+)"/.exec((await b.get(`${admin.url}/console/keys`)).text)![1]!
  t.equal(retiredKid, auth.issuer.keyRing.keys().find((key) => key.state === 'retired')!.kid, 'a button for the retired key only')
  const asked = await fetchPost(b, `${admin.url}/console/action/key-retire`, { _csrf: token, kid: retiredKid, returnTo: '/console/keys' }, { origin: admin.url })
  t.match(asked.text, new RegExp(`name="confirmed" value="yes"[\\s\\S]*Yes, retire the key ${retiredKid} now</button>`), 'asks first, naming the key as it is')
  const retired = await act('key-retire', { kid: retiredKid, returnTo: '/console/keys' })
  const keysPage = (await b.get(`${admin.url}${retired.location!}`)).text
  t.match(keysPage, `Key ${retiredKid} retired: removed from the JWKS.`)
  t.notMatch(keysPage, /key-retire/, 'no retired key left')
  for (const path of ['/console/clients', '/console/keys', '/console/revocations', '/console/audit']) {
    t.equal((await browser().get(`${admin.url}${path}`)).status, 303, `${path} signed out: to the sign-in`)
  }
  await auth.store.userAdmin.setRoles('root', [])
  for (const path of ['/console/users', '/console/clients', '/console/revocations', '/console/audit', '/console/users/root']) {
    t.equal((await b.get(`${admin.url}${path}`)).status, 403, `${path} without the role`)
  }
  await auth.store.userAdmin.setRoles('root', ['admin'])
  t.equal((await b.get(`${admin.url}/console/users/kim`)).status, 404, 'a user that is gone')
  t.equal((await act('user-enable', { username: 'kim', returnTo: '//evil.example/' })).location, '/console/users', 'only a console path to return to')
  t.equal((await fetchPost(b, `${admin.url}/console/action/user-enable`, { _csrf: '' }, {})).status, 403)
  const noBody = await fetch(`${admin.url}/console/logout`, { method: 'POST', headers: { cookie: [...b.jar].map(([n, v]) => `${n}=${v}`).join('; ') } })
  t.equal(noBody.status, 403, 'a post without a form')

  // The callback checks iss, and needs a code.
  const pending = new URL((await b.get((await b.get(`${admin.url}/console/login`)).location!)).location!)
  pending.searchParams.set('iss', 'https://other.example')
  t.equal((await b.get(pending.href)).status, 400)
  const noCode = new URL((await b.get((await b.get(`${admin.url}/console/login`)).location!)).location!)
  noCode.searchParams.delete('code')
  t.equal((await b.get(noCode.href)).status, 400)

  // The console's token revoked: an action says the sign-in has ended.
  await auth.store.userAdmin.revokeSessions('root')
  let answer = await act('user-enable', { username: 'root' })
  for (let i = 0; i < 100 && answer.location === '/console/users/kim'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    answer = await act('user-enable', { username: 'root' })
  }
  t.match(answer.location, /^\/console\/login\?reauth=1/)
})

t.test('the console client is registered once, whoever registers it first', async (t) => {
  const { auth } = await setUp(t)
  const { ensureConsoleClient } = await import('../../services/auth/admin/console/client.js')
  await auth.store.clientAdmin.remove('ssot-admin-console')
  const create = auth.store.clients.create
  // Another replica creates it between our update and our insert.
  const racing = { ...auth.store, clients: { ...auth.store.clients, create: async (input: Parameters<typeof create>[0]) => { await create(input); return create(input) } } }
  await ensureConsoleClient(racing as never, { redirectUri: 'http://127.0.0.1:1/console/callback', audience: 'ssot-admin' })
  t.ok(await auth.store.clientAdmin.exists('ssot-admin-console'))
  await ensureConsoleClient(auth.store, { redirectUri: 'http://127.0.0.1:2/console/callback', audience: 'ssot-admin' })
  t.match(await auth.store.clientAdmin.list({ search: 'ssot-admin-console', limit: 1 }), [{ redirectUris: ['http://127.0.0.1:2/console/callback'] }], 'a new start brings it up to date')
  t.same(consoleCookieNames(true), { session: '__Host-ssot-admin', signIn: '__Host-ssot-admin-sign-in' }, 'over https: __Host- cookies')
  await auth.store.clientAdmin.remove('ssot-admin-console')
  await t.rejects(ensureConsoleClient(auth.store, { redirectUri: 'http://example.com/console/callback', audience: 'ssot-admin' }), 'a redirect URI the rules refuse')
})
