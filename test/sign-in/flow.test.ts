// Browser sign-in over real HTTP, the way a browser and a client library go through it: authorize,
// the login form, the callback, the code exchange, userinfo, refresh, single sign-on and sign-out.
import t from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { atHash } from '../../services/auth/grants.js'
import { startResource } from '../helper.js'
import {
  authorizeUrl, browser, csrfOf, pkce, signInThroughForm, SPA_REDIRECT, startSignIn, tokenRequest, webParams, WEB_REDIRECT
} from './helpers.js'

const codeOf = (location: string | undefined) => new URL(location!).searchParams.get('code')!

t.test('a confidential client signs a user in: code, tokens, ID token, userinfo, refresh', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { verifier, challenge } = pkce()

  const started = await b.get(authorizeUrl(app.url, webParams(challenge)))
  t.equal(started.status, 303, 'authorize sends the browser to the login page with 303')
  t.equal(started.location, '/sign-in')
  t.ok(b.jar.has('ssot-sign-in'), 'the sign-in attempt cookie is set')
  const form = await b.get(`${app.url}/sign-in`)
  t.equal(form.status, 200)
  t.match(form.text, /<input id="username" name="username" type="text" autocomplete="username"/)
  t.match(form.text, /<input id="password" name="password" type="password" autocomplete="current-password"/)
  t.match(form.text, /<label for="username">/)
  t.match(form.text, /The &lt;Web&gt; App/, 'the client name is escaped')
  const done = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrfOf(form.text) })
  t.equal(done.status, 303)
  const callback = new URL(done.location!)
  t.equal(`${callback.origin}${callback.pathname}`, WEB_REDIRECT)
  t.equal(callback.searchParams.get('state'), 'st-1')
  t.equal(callback.searchParams.get('iss'), app.url)
  t.ok(b.jar.has('ssot-session'), 'the browser session cookie is set')
  t.notOk(b.jar.has('ssot-sign-in'), 'the attempt cookie is cleared')

  const tokens = await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])
  t.equal(tokens.status, 200)
  t.equal(tokens.headers.get('cache-control'), 'no-store')
  t.match(tokens.body, { token_type: 'Bearer', expires_in: 900, scope: 'openid profile offline_access', refresh_token: /^[\w-]{43}$/ })
  const header = decodeProtectedHeader(tokens.body.id_token!)
  t.match(header, { alg: 'RS256', typ: 'JWT' })
  const id = decodeJwt(tokens.body.id_token!)
  const access = decodeJwt(tokens.body.access_token!)
  t.match(id, { iss: app.url, aud: 'web', nonce: 'n-1', sub: access.sub, at_hash: atHash(tokens.body.access_token!), preferred_username: 'alice' })
  t.type(id.auth_time, 'number')
  t.type(id.sid, 'string')
  t.ok(id.exp! > id.iat!)
  t.same(access.aud, ['ssot-api', app.url], 'the client\'s audience, and the issuer for userinfo')
  t.equal(access.client_id, 'web')

  for (const method of ['GET', 'POST']) {
    const info = await fetch(`${app.url}/userinfo`, { method, headers: { authorization: `Bearer ${tokens.body.access_token}` } })
    t.equal(info.status, 200, `userinfo ${method}`)
    t.same(await info.json(), { sub: access.sub, preferred_username: 'alice' })
  }
  const noToken = await fetch(`${app.url}/userinfo`)
  t.equal(noToken.status, 401)

  const refreshed = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, ['web', app.webSecret])
  t.equal(refreshed.status, 200)
  t.same(decodeJwt(refreshed.body.access_token!).aud, ['ssot-api', app.url], 'a refresh keeps the audience')
  const resource = await startResource(t, app.url)
  const protectedAnswer = await fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${refreshed.body.access_token}` } })
  t.equal(protectedAnswer.status, 200, 'the resource service accepts the token')
})

t.test('a public client: client_id alone and PKCE; its loopback port may vary; no offline_access, no refresh token', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { verifier, challenge } = pkce()
  const redirect = 'http://127.0.0.1:51234/cb'
  const done = await signInThroughForm(app, b, { ...webParams(challenge), client_id: 'spa', redirect_uri: redirect, scope: 'openid' })
  t.equal(done.status, 303)
  t.match(done.location, /^http:\/\/127\.0\.0\.1:51234\/cb\?code=/)
  const tokens = await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: redirect, code_verifier: verifier, client_id: 'spa' })
  t.equal(tokens.status, 200)
  t.notOk(tokens.body.refresh_token, 'no refresh token without offline_access')
  t.equal(tokens.body.scope, 'openid')
  t.notOk(decodeJwt(tokens.body.id_token!).preferred_username, 'no profile claims without profile')
  const secretTried = await tokenRequest(app.url, { grant_type: 'client_credentials' }, ['spa', 'a guess'])
  t.equal(secretTried.status, 401, 'a public client has no secret that works')
  const other = await b.get(authorizeUrl(app.url, { ...webParams(challenge), client_id: 'spa', redirect_uri: 'http://127.0.0.1:51234/other' }))
  t.equal(other.status, 400, 'only the port may vary')
  const web = await b.get(authorizeUrl(app.url, { ...webParams(challenge), redirect_uri: 'https://web.example:8443/callback' }))
  t.equal(web.status, 400, 'a confidential client\'s URI is an exact string')
  t.equal(SPA_REDIRECT, 'http://127.0.0.1:4000/cb')
})

t.test('single sign-on: a second client gets its code without the form; prompt=login and max_age ask again; prompt=none', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  await signInThroughForm(app, b, webParams(challenge))
  const second = await b.get(authorizeUrl(app.url, { ...webParams(challenge), client_id: 'spa', redirect_uri: SPA_REDIRECT }))
  t.equal(second.status, 303)
  t.match(second.location, /^http:\/\/127\.0\.0\.1:4000\/cb\?code=[\w-]+&state=st-1&iss=/, 'a code at once')
  const silent = await b.get(authorizeUrl(app.url, webParams(challenge, { prompt: 'none' })))
  t.match(silent.location, /^https:\/\/web\.example\/callback\?code=/, 'prompt=none with a session: a code')
  const again = await b.get(authorizeUrl(app.url, webParams(challenge, { prompt: 'login' })))
  t.equal(again.location, '/sign-in', 'prompt=login shows the form')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const old = await b.get(authorizeUrl(app.url, webParams(challenge, { max_age: '0' })))
  t.equal(old.location, '/sign-in', 'a sign-in older than max_age shows the form')
  const stranger = await browser().get(authorizeUrl(app.url, webParams(challenge, { prompt: 'none' })))
  const error = new URL(stranger.location!)
  t.same(Object.fromEntries(error.searchParams), {
    error: 'login_required', error_description: 'The user is not signed in', state: 'st-1', iss: app.url
  }, 'prompt=none without a session: login_required')
})

t.test('a new session id at every login: a planted cookie is never the session', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  await signInThroughForm(app, b, webParams(challenge))
  const first = b.jar.get('ssot-session')
  await signInThroughForm(app, b, webParams(challenge, { prompt: 'login' }))
  const second = b.jar.get('ssot-session')
  t.ok(first && second && first !== second, 'another cookie value')
  const sessions = await app.store.db.selectFrom('browser_sessions').select('id').execute()
  t.equal(sessions.length, 2, 'another session row')
  const planted = browser()
  planted.jar.set('ssot-session', first!.replace(/^[^.]{5}/, 'AAAAA'))
  const tampered = await planted.get(authorizeUrl(app.url, webParams(challenge)))
  t.equal(tampered.location, '/sign-in', 'a forged cookie is no session')
})

t.test('the login form: wrong password in plain words, the throttle and its device cookie, CSRF and the attempt cookie', async (t) => {
  const app = await startSignIn(t, { LOGIN_MAX_PER_IP: '2' })
  const b = browser()
  const { challenge } = pkce()
  await b.get(authorizeUrl(app.url, webParams(challenge)))
  const form = await b.get(`${app.url}/sign-in`)
  const csrf = csrfOf(form.text)
  const wrong = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'wrong', csrf_token: csrf })
  t.equal(wrong.status, 401)
  t.match(wrong.text, /That username and password do not match/)
  t.match(wrong.text, /value="alice"/, 'the username is kept')
  const empty = await b.post(`${app.url}/sign-in`, { username: '', password: '', csrf_token: csrf })
  t.equal(empty.status, 400)
  t.match(empty.text, /Enter your username and your password/)

  const noCsrf = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery' })
  t.equal(noCsrf.status, 403)
  t.match(noCsrf.text, /SIGN_IN_CSRF/)
  const otherCsrf = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrf.replace(/^./, (c) => c === 'A' ? 'B' : 'A') })
  t.equal(otherCsrf.status, 403)
  const noCookie = await browser().post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrf })
  t.equal(noCookie.status, 403)
  t.match(noCookie.text, /SIGN_IN_EXPIRED/)
  const noForm = await browser().get(`${app.url}/sign-in`)
  t.equal(noForm.status, 400)
  const badBody = await b.post(`${app.url}/sign-in`, { username: 'alice', extra: 'x' })
  t.equal(badBody.status, 400, 'unknown fields are refused, on a page')
  t.match(badBody.headers.get('content-type'), /text\/html/)

  await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'wrong', csrf_token: csrf })
  const throttled = await b.post(`${app.url}/sign-in`, { username: 'alice', password: 'correct horse battery', csrf_token: csrf })
  t.equal(throttled.status, 429, 'the same throttle as /auth/login')
  t.match(throttled.text, /Too many sign-in attempts\. Wait \d+ seconds/)
  t.ok(throttled.headers.get('retry-after'))
  t.equal(await app.store.db.selectFrom('authorization_codes').select('code_hash').executeTakeFirst(), undefined, 'no code was issued')
})

t.test('the headers of the pages: no-store, no framing, no Referer, a CSP without inline script', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  const pages = [await b.get(authorizeUrl(app.url, webParams(challenge))), await b.get(`${app.url}/sign-in`), await b.get(authorizeUrl(app.url, { client_id: 'nobody' }))]
  for (const page of pages) {
    t.equal(page.headers.get('cache-control'), 'no-store')
    t.equal(page.headers.get('referrer-policy'), 'no-referrer')
    t.equal(page.headers.get('x-frame-options'), 'DENY')
    const csp = page.headers.get('content-security-policy')!
    t.match(csp, /frame-ancestors 'none'/)
    t.match(csp, /script-src 'self'/)
    t.notMatch(csp, /form-action/, 'the form may be answered by a redirect to the app')
  }
  const css = await b.get(`${app.url}/sign-in/style.css`)
  t.equal(css.status, 200)
  t.match(css.headers.get('content-type'), /text\/css/)
})
