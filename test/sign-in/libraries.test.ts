// The flows as standard client libraries run them, with a real browser in the middle: discovery,
// authorize, the login form in headless Chromium, the callback, the code exchange with PKCE,
// state, nonce and iss checked by the library; then userinfo, refresh and RP-initiated logout.
// openid-client 6 with a confidential client (client_secret_basic), oauth4webapi 3 with a public
// one; and single sign-on: the second app gets its code without the form.
import t from 'tap'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import { chromiumAvailable } from '../services.js'
import { callbackServer, launch, signIn } from './browser.js'
import { PASSWORD, startSignIn } from './helpers.js'

t.test('openid-client (confidential) then oauth4webapi (public) in one browser: sign-in, single sign-on, userinfo, refresh, logout', async (t) => {
  if (!chromiumAvailable(t)) return
  const web = await callbackServer(t)
  const spaApp = await callbackServer(t)
  const WEB_REDIRECT = `${web.origin}/callback`
  const SPA_REDIRECT = `${spaApp.origin}/cb`
  const app = await startSignIn(t, {}, {}, { web: WEB_REDIRECT, webLogout: `${web.origin}/`, spa: SPA_REDIRECT })
  const context = await launch(t)
  const webCallbacks = web.seen
  const spaCallbacks = spaApp.seen
  const page = await context.newPage()

  // openid-client: discovery, then the authorization URL with PKCE, state and nonce.
  const config = await client.discovery(new URL(app.url), 'web', undefined, client.ClientSecretBasic(app.webSecret), { execute: [client.allowInsecureRequests] })
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: WEB_REDIRECT, scope: 'openid profile offline_access', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce
  })
  t.ok(await signIn(page, url.href, 'alice', PASSWORD), 'the login form was shown')
  t.equal(webCallbacks.length, 1)
  const tokens = await client.authorizationCodeGrant(config, new URL(webCallbacks[0]!), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true
  })
  const claims = tokens.claims()!
  t.equal(claims.iss, app.url)
  t.equal(claims.aud, 'web')
  t.ok(tokens.refresh_token, 'a refresh token for offline_access')
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  t.equal(info.preferred_username, 'alice')
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!)
  t.ok(refreshed.access_token)
  t.not(refreshed.refresh_token, tokens.refresh_token, 'rotated')

  // oauth4webapi, the public client, in the same browser: single sign-on, no form.
  const issuer = new URL(app.url)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }))
  const spa: oauth.Client = { client_id: 'spa' }
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const spaState = oauth.generateRandomState()
  const spaNonce = oauth.generateRandomNonce()
  const authorize = new URL(as.authorization_endpoint!)
  for (const [name, value] of Object.entries({
    client_id: 'spa',
    redirect_uri: SPA_REDIRECT,
    response_type: 'code',
    scope: 'openid profile offline_access',
    state: spaState,
    nonce: spaNonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256'
  })) authorize.searchParams.set(name, value)
  t.notOk(await signIn(page, authorize.href, 'alice', PASSWORD), 'single sign-on: no form for the second app')
  t.equal(spaCallbacks.length, 1)
  const params = oauth.validateAuthResponse(as, spa, new URL(spaCallbacks[0]!), spaState)
  const response = await oauth.authorizationCodeGrantRequest(as, spa, oauth.None(), params, SPA_REDIRECT, codeVerifier, { [oauth.allowInsecureRequests]: true })
  const result = await oauth.processAuthorizationCodeResponse(as, spa, response, { expectedNonce: spaNonce, requireIdToken: true })
  const spaClaims = oauth.getValidatedIdTokenClaims(result)!
  t.equal(spaClaims.sub, claims.sub, 'the same user')
  t.equal(spaClaims.sid, claims.sid, 'the same browser session')
  const userinfo = await oauth.processUserInfoResponse(as, spa, spaClaims.sub,
    await oauth.userInfoRequest(as, spa, result.access_token, { [oauth.allowInsecureRequests]: true }))
  t.equal(userinfo.preferred_username, 'alice')
  const spaRefreshed = await oauth.processRefreshTokenResponse(as, spa,
    await oauth.refreshTokenGrantRequest(as, spa, oauth.None(), result.refresh_token!, { [oauth.allowInsecureRequests]: true }))
  t.ok(spaRefreshed.access_token)

  // RP-initiated logout from the first app ends the browser session and what it opened, for both apps.
  const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${web.origin}/`, state: 'bye' })
  await page.goto(logout.href)
  t.equal(webCallbacks.at(-1), `${web.origin}/?state=bye`, 'back at the app')
  const deadline = Date.now() + 1000
  let status = 200
  while (status === 200 && Date.now() < deadline) {
    status = (await fetch(`${app.url}/userinfo`, { headers: { authorization: `Bearer ${spaRefreshed.access_token}` } })).status
  }
  t.equal(status, 401, 'the second app\'s token is refused within 1 s')
  const revoked = await client.refreshTokenGrant(config, refreshed.refresh_token!).then(() => undefined, (err: { error?: string }) => err.error)
  t.equal(revoked, 'invalid_grant', 'the refresh token is revoked')
  const again = await client.buildAuthorizationUrl(config, {
    redirect_uri: WEB_REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256'
  })
  t.ok(await signIn(page, again.href, 'alice', PASSWORD), 'the form again: the session is over')
  await context.close()
})
