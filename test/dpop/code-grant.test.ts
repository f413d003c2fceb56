// The browser sign-in's code grant with DPoP (RFC 9449 §5): a public client's code redeemed with a
// proof gives a bound access token and bound refresh tokens; a confidential client's refresh
// tokens stay bound to its authentication; a bad proof leaves the code unspent.
import t from 'tap'
import { decodeJwt } from 'jose'
import * as dpop from 'dpop'
import { jwkThumbprint } from '../../plugins/verifier/dpop-proof.js'
import { browser, pkce, signInThroughForm, SPA_REDIRECT, startSignIn, webParams, WEB_REDIRECT } from '../sign-in/helpers.js'

const spaParams = (challenge: string) => ({ ...webParams(challenge), client_id: 'spa', redirect_uri: SPA_REDIRECT })

async function codeFor (app: Awaited<ReturnType<typeof startSignIn>>, params: Record<string, string>) {
  const signedIn = await signInThroughForm(app, browser(), params)
  return new URL(signedIn.location!).searchParams.get('code')!
}

async function token (url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form)
  })
  return { status: response.status, body: await response.json() as Record<string, string> }
}

t.test('a public client\'s code with a proof: a DPoP-bound access token, and refresh tokens only its key can spend', async (t) => {
  const app = await startSignIn(t)
  const key = await dpop.generateKeyPair('ES256')
  const proof = async (k = key) => ({ dpop: await dpop.generateProof(k, `${app.url}/oauth/token`, 'POST') })
  const { verifier, challenge } = pkce()
  const code = await codeFor(app, spaParams(challenge))
  const redeem = { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }

  const badProof = await token(app.url, redeem, { dpop: 'not.a.proof' })
  t.match(badProof, { status: 400, body: { error: 'invalid_dpop_proof' } })
  const granted = await token(app.url, redeem, await proof())
  t.equal(granted.status, 200, 'the code was not spent by the bad proof')
  t.equal(granted.body.token_type, 'DPoP')
  t.same(decodeJwt(granted.body.access_token!).cnf, { jkt: jwkThumbprint(await crypto.subtle.exportKey('jwk', key.publicKey) as Record<string, unknown>) })

  const refresh = { grant_type: 'refresh_token', client_id: 'spa', refresh_token: granted.body.refresh_token! }
  t.match(await token(app.url, refresh), { status: 400, body: { error: 'invalid_grant' } }, 'no proof: refused')
  t.match(await token(app.url, refresh, await proof(await dpop.generateKeyPair('ES256'))), { status: 400, body: { error: 'invalid_grant' } }, 'another key: refused')
  const refreshed = await token(app.url, refresh, await proof())
  t.equal(refreshed.status, 200, 'untouched by the refusals, it refreshes with its key')
  t.equal(refreshed.body.token_type, 'DPoP')
})

t.test('a confidential client\'s code with a proof: a bound access token; its refresh tokens need its secret, not the key', async (t) => {
  const app = await startSignIn(t)
  const key = await dpop.generateKeyPair('ES256')
  const { verifier, challenge } = pkce()
  const code = await codeFor(app, webParams(challenge))
  const basic = { authorization: `Basic ${Buffer.from(`web:${app.webSecret}`).toString('base64')}` }
  const granted = await token(app.url, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: verifier },
    { ...basic, dpop: await dpop.generateProof(key, `${app.url}/oauth/token`, 'POST') })
  t.equal(granted.body.token_type, 'DPoP')
  t.ok(decodeJwt(granted.body.access_token!).cnf)
  const refreshed = await token(app.url, { grant_type: 'refresh_token', refresh_token: granted.body.refresh_token! }, basic)
  t.equal(refreshed.status, 200)
  t.equal(refreshed.body.token_type, 'Bearer', 'without a proof, a Bearer token')
})

t.test('a public client registered as DPoP-required: its code is redeemed only with a proof', async (t) => {
  const app = await startSignIn(t)
  await app.store.clients.create({
    clientId: 'strict-spa', name: 'Strict', scopes: ['openid'], audiences: ['ssot-api'], redirectUris: [SPA_REDIRECT], public: true, dpopRequired: true
  })
  const { verifier, challenge } = pkce()
  const code = await codeFor(app, { ...spaParams(challenge), client_id: 'strict-spa', scope: 'openid' })
  const redeem = { grant_type: 'authorization_code', client_id: 'strict-spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }
  t.match(await token(app.url, redeem), { status: 400, body: { error: 'invalid_dpop_proof' } }, 'no proof: refused')
  const granted = await token(app.url, redeem, { dpop: await dpop.generateProof(await dpop.generateKeyPair('ES256'), `${app.url}/oauth/token`, 'POST') })
  t.equal(granted.body.token_type, 'DPoP', 'the code was left for the request with a proof')
})

t.test('without openid, plain OAuth 2.0: no ID token, and the access token is for the client\'s one audience', async (t) => {
  const app = await startSignIn(t)
  const { verifier, challenge } = pkce()
  const code = await codeFor(app, { ...webParams(challenge), scope: 'profile' })
  const basic = { authorization: `Basic ${Buffer.from(`web:${app.webSecret}`).toString('base64')}` }
  const granted = await token(app.url, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: verifier }, basic)
  t.equal(granted.status, 200)
  t.notOk('id_token' in granted.body)
  t.equal(decodeJwt(granted.body.access_token!).aud, 'ssot-api')
})
