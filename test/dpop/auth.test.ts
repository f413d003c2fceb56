// DPoP end to end over real HTTP: the auth service binds tokens to the key of the proof sent to
// each token-issuing route (and a public client's refresh tokens too), and the resource service's
// verifier takes them with fresh proofs. Two client libraries drive it: oauth4webapi and the `dpop`
// package. Then the refusals: bad, replayed and misaddressed proofs, another key at refresh, a client
// that must send proofs, and nonces across replicas.
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
import * as dpop from 'dpop'
import { buildApp as buildResourceApp } from '../../services/resource/app.js'
import { loadResourceEnv, resourceAppOptions } from '../../services/resource/config.js'
import { createNonces } from '../../plugins/verifier/dpop-nonce.js'
import { jwkThumbprint } from '../../plugins/verifier/dpop-proof.js'
import { addUser, buildAuth, COOKIE_SECRET, reservePort, runCli, startAuth, testDir, type Env } from '../helper.js'
import { redisUrl } from '../redis.js'
import { makeProof, proofKey } from './helpers.js'
import { join } from 'node:path'

const insecure = { [oauth.allowInsecureRequests]: true }

/** The resource service on a port known before it listens, so RESOURCE_PUBLIC_URL can name it. */
async function startResource (t: Test, issuer: string, env: Env = {}) {
  const { port, close } = await reservePort()
  await close()
  const url = `http://127.0.0.1:${port}`
  const app = await buildResourceApp(resourceAppOptions(loadResourceEnv({ ISSUER_URL: issuer, RESOURCE_PUBLIC_URL: url, ...env })))
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port })
  return Object.assign(app, { url })
}

async function thumbprintOf (keyPair: CryptoKeyPair): Promise<string> {
  return jwkThumbprint(await crypto.subtle.exportKey('jwk', keyPair.publicKey) as Record<string, unknown>)!
}

async function post (url: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as Record<string, unknown>, headers: response.headers }
}

t.test('discovery lists the proof algorithms: asymmetric only, ES256, Ed25519 and EdDSA among them', async (t) => {
  const auth = await startAuth(t)
  const as = await oauth.processDiscoveryResponse(new URL(auth.url), await oauth.discoveryRequest(new URL(auth.url), { ...insecure, algorithm: 'oauth2' }))
  const algs = as.dpop_signing_alg_values_supported as string[]
  for (const alg of ['ES256', 'Ed25519', 'EdDSA', 'PS256', 'RS256']) t.ok(algs.includes(alg), alg)
  t.notOk(algs.some((alg) => alg.startsWith('HS') || alg === 'none'))
})

t.test('oauth4webapi: client_credentials with DPoP gets a bound token and calls a protected route with fresh proofs', async (t) => {
  const auth = await startAuth(t)
  const { clientSecret } = await auth.store.clients.create({ clientId: 'reports', name: 'Reports', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const resource = await startResource(t, auth.url)
  const as = await oauth.processDiscoveryResponse(new URL(auth.url), await oauth.discoveryRequest(new URL(auth.url), { ...insecure, algorithm: 'oauth2' }))
  const client: oauth.Client = { client_id: 'reports' }
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), { scope: 'orders:read' }, { ...insecure, DPoP })
  const tokens = await oauth.processClientCredentialsResponse(as, client, response)
  t.equal(tokens.token_type, 'dpop')
  t.same(decodeJwt(tokens.access_token).cnf, { jkt: await thumbprintOf(keyPair) })

  for (const attempt of [1, 2]) {
    const answer = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${resource.url}/resource/orders`), undefined, undefined, { ...insecure, DPoP })
    t.equal(answer.status, 200, `call ${attempt}, each with its own proof`)
    t.match(await answer.json(), { readBy: 'reports' })
  }
  // The same token, copied without its key: as Bearer, or with a proof of another key.
  const asBearer = await fetch(`${resource.url}/resource/orders`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(asBearer.status, 401)
  t.match(asBearer.headers.get('www-authenticate'), /^DPoP realm="api", algs="[^"]+", error="invalid_token"/)
  const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  // oauth4webapi reads the 401's challenge and throws it.
  await t.rejects(oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${resource.url}/resource/orders`), undefined, undefined, { ...insecure, DPoP: thief }), {
    code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', status: 401, cause: [{ scheme: 'dpop', parameters: { error: 'invalid_dpop_proof' } }]
  })
})

t.test('the dpop package: a login with an Ed25519 proof, a protected call, refreshes bound to that key', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'alice', 'correct horse battery')
  const resource = await startResource(t, auth.url)
  const keyPair = await dpop.generateKeyPair('Ed25519')
  const proof = (url: string, method = 'POST', accessToken?: string) => dpop.generateProof(keyPair, url, method, undefined, accessToken)

  const login = await post(`${auth.url}/auth/login`, { username: 'alice', password: 'correct horse battery' }, { dpop: await proof(`${auth.url}/auth/login`) })
  t.equal(login.status, 200)
  t.equal(login.body.token_type, 'DPoP')
  const jkt = await thumbprintOf(keyPair)
  t.same(decodeJwt(login.body.access_token as string).cnf, { jkt })

  const call = async (accessToken: string) => fetch(`${resource.url}/resource/protected`, {
    headers: { authorization: `DPoP ${accessToken}`, dpop: await proof(`${resource.url}/resource/protected`, 'GET', accessToken) }
  })
  const protectedCall = await call(login.body.access_token as string)
  t.equal(protectedCall.status, 200)
  t.match(await protectedCall.json(), { user: { username: 'alice' } })

  // The refresh token is bound: another key, or none, is refused, and the token is not spent.
  const refreshToken = login.body.refresh_token as string
  const otherKey = await dpop.generateKeyPair('ES256')
  const withOther = await post(`${auth.url}/auth/refresh`, { refresh_token: refreshToken }, { dpop: await dpop.generateProof(otherKey, `${auth.url}/auth/refresh`, 'POST') })
  t.equal(withOther.status, 401)
  t.match(withOther.body, { code: 'AUTH_INVALID_GRANT' })
  const withNone = await post(`${auth.url}/auth/refresh`, { refresh_token: refreshToken })
  t.equal(withNone.status, 401)
  const asOAuth = await fetch(`${auth.url}/oauth/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'first-party-login' })
  })
  t.equal(asOAuth.status, 400)
  t.match(await asOAuth.json(), { error: 'invalid_grant', error_description: /bound to a DPoP key/ })
  const refreshed = await post(`${auth.url}/auth/refresh`, { refresh_token: refreshToken }, { dpop: await proof(`${auth.url}/auth/refresh`) })
  t.equal(refreshed.status, 200, 'the right key still refreshes: the refusals spent nothing')
  t.equal(refreshed.body.token_type, 'DPoP')
  t.same(decodeJwt(refreshed.body.access_token as string).cnf, { jkt })
  t.equal((await call(refreshed.body.access_token as string)).status, 200)

  // oauth4webapi refreshes the same session at /oauth/token, as the public login client.
  const as = await oauth.processDiscoveryResponse(new URL(auth.url), await oauth.discoveryRequest(new URL(auth.url), { ...insecure, algorithm: 'oauth2' }))
  const client: oauth.Client = { client_id: 'first-party-login' }
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.body.refresh_token as string, { ...insecure, DPoP: oauth.DPoP(client, keyPair) })
  const tokens = await oauth.processRefreshTokenResponse(as, client, response)
  t.equal(tokens.token_type, 'dpop')
  t.same(decodeJwt(tokens.access_token).cnf, { jkt })
})

t.test('a login without a proof stays Bearer; its refresh with a proof gets a bound access token', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'bob', 'hunter2 hunter2')
  const login = await post(`${auth.url}/auth/login`, { username: 'bob', password: 'hunter2 hunter2' })
  t.equal(login.body.token_type, 'Bearer')
  t.notOk(decodeJwt(login.body.access_token as string).cnf)
  const key = proofKey()
  const refreshed = await post(`${auth.url}/auth/refresh`, { refresh_token: login.body.refresh_token as string }, { dpop: makeProof(key, 'POST', `${auth.url}/auth/refresh`) })
  t.equal(refreshed.body.token_type, 'DPoP')
  t.same(decodeJwt(refreshed.body.access_token as string).cnf, { jkt: jwkThumbprint(key.publicJwk as Record<string, unknown>) })
})

t.test('bad proofs at the token-issuing routes: 400 invalid_dpop_proof, before any password is checked', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'carol', 'carol password 1')
  const { clientSecret } = await auth.store.clients.create({ clientId: 'svc', name: 'svc', scopes: ['a'], audiences: ['ssot-api'] })
  const key = proofKey()
  const credentials = { username: 'carol', password: 'carol password 1' }
  const loginUrl = `${auth.url}/auth/login`
  const used = makeProof(key, 'POST', loginUrl)
  t.equal((await post(loginUrl, credentials, { dpop: used })).status, 200)
  const cases: Array<[string, Record<string, string>]> = [
    ['a replayed proof', { dpop: used }],
    ['a proof for another route', { dpop: makeProof(key, 'POST', `${auth.url}/oauth/token`) }],
    ['a proof for another host, with that Host header', { dpop: makeProof(key, 'POST', 'http://evil.example.com/auth/login'), 'x-forwarded-host': 'evil.example.com' }],
    ['a proof for GET', { dpop: makeProof(key, 'GET', loginUrl) }],
    ['a stale proof', { dpop: makeProof(key, 'POST', loginUrl, { claims: { iat: Math.floor(Date.now() / 1000) - 600 } }) }],
    ['a private key in the proof', { dpop: makeProof(key, 'POST', loginUrl, { header: { jwk: key.privateKey.export({ format: 'jwk' }) } }) }],
    ['an HS256 proof', { dpop: makeProof(key, 'POST', loginUrl, { header: { alg: 'HS256' } }) }],
    ['not a JWS', { dpop: 'nonsense' }]
  ]
  for (const [name, headers] of cases) {
    const answer = await post(loginUrl, { ...credentials, password: 'wrong' }, headers)
    t.equal(answer.status, 400, name)
    t.match(answer.body, { code: 'AUTH_INVALID_DPOP_PROOF', message: /^invalid_dpop_proof: / }, name)
  }
  const two = await fetch(loginUrl, {
    method: 'POST', headers: [['content-type', 'application/json'], ['dpop', makeProof(key, 'POST', loginUrl)], ['dpop', makeProof(key, 'POST', loginUrl)]], body: JSON.stringify(credentials)
  })
  t.equal(two.status, 400, 'two DPoP headers')
  const tokenUrl = `${auth.url}/oauth/token`
  const oauthRefusal = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`svc:${clientSecret}`).toString('base64')}`, dpop: makeProof(key, 'POST', loginUrl) },
    body: new URLSearchParams({ grant_type: 'client_credentials' })
  })
  t.equal(oauthRefusal.status, 400)
  t.match(await oauthRefusal.json(), { error: 'invalid_dpop_proof', code: 'OAUTH_INVALID_DPOP_PROOF', error_description: 'the proof is for another URL' })
  t.equal(oauthRefusal.headers.get('cache-control'), 'no-store')
})

t.test('a client registered with --dpop-required must send a proof on every grant', async (t) => {
  const auth = await startAuth(t, { COOKIE_SECRET })
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, KEYS_DIR: auth.keysDir }
  const added = await runCli('client-add', ['bound-svc', '--scopes', 'orders:read', '--dpop-required'], env)
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, /every token request must carry a DPoP proof/)
  const secret = added.stdout.trim().split('\n').at(-1)!
  const request = (headers: Record<string, string> = {}) => fetch(`${auth.url}/oauth/token`, {
    method: 'POST', headers: { authorization: `Basic ${Buffer.from(`bound-svc:${secret}`).toString('base64')}`, ...headers }, body: new URLSearchParams({ grant_type: 'client_credentials' })
  })
  const without = await request()
  t.equal(without.status, 400)
  t.match(await without.json(), { error: 'invalid_dpop_proof', error_description: /must send a DPoP proof/ })
  const key = proofKey('PS256')
  const withProof = await request({ dpop: makeProof(key, 'POST', `${auth.url}/oauth/token`) })
  t.equal(withProof.status, 200)
  t.match(await withProof.json(), { token_type: 'DPoP' })
})

t.test('nonces: off by default; on, oauth4webapi retries with the nonce, and a nonce from one replica works at another', async (t) => {
  const secret = 'a DPoP nonce secret of 32+ characters'
  const { port: portB, close } = await reservePort()
  await close()
  const a = await startAuth(t, { DPOP_NONCE_SECRET: secret })
  const b = await buildAuth(t, { DPOP_NONCE_SECRET: secret, ISSUER_URL: a.url, KEYS_DIR: a.keysDir })
  await b.listen({ host: '127.0.0.1', port: portB })
  const { clientSecret } = await a.store.clients.create({ clientId: 'reports', name: 'Reports', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const as = await oauth.processDiscoveryResponse(new URL(a.url), await oauth.discoveryRequest(new URL(a.url), { ...insecure, algorithm: 'oauth2' }))
  const client: oauth.Client = { client_id: 'reports' }
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const grant = async () => oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), {}, { ...insecure, DPoP }))
  let nonceError: unknown
  try {
    await grant()
  } catch (err) {
    nonceError = err
  }
  t.ok(oauth.isDPoPNonceError(nonceError), 'the first request is told to use a nonce')
  t.equal((await grant()).token_type, 'dpop', 'the retry, with the nonce oauth4webapi kept, gets a token')

  // Replica B, sharing only the secret (and the database), accepts the nonce A handed out.
  const key = proofKey()
  const nonce = createNonces({ secret }).current()
  const atB = await fetch(`http://127.0.0.1:${portB}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`reports:${clientSecret}`).toString('base64')}`, dpop: makeProof(key, 'POST', `${a.url}/oauth/token`, { claims: { nonce } }) },
    body: new URLSearchParams({ grant_type: 'client_credentials' })
  })
  t.equal(atB.status, 200)
  t.equal(atB.headers.get('dpop-nonce'), nonce)
  const stale = await fetch(`${a.url}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', dpop: makeProof(key, 'POST', `${a.url}/auth/login`, { claims: { nonce: 'x.AAAAAAAAAAAAAAAAAAAAAA' } }) }, body: '{"username":"u","password":"p"}'
  })
  t.equal(stale.status, 400)
  t.match(await stale.json(), { code: 'AUTH_USE_DPOP_NONCE' })
  t.equal(stale.headers.get('dpop-nonce'), nonce)

  // Off by default: a proof without a nonce is accepted.
  const plain = await startAuth(t)
  const login = await fetch(`${plain.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', dpop: makeProof(key, 'POST', `${plain.url}/auth/login`) }, body: '{"username":"u","password":"p"}' })
  t.equal(login.status, 401, 'past the proof, to the password check')
  t.notOk(login.headers.get('dpop-nonce'))
})

t.test('replicas sharing Redis share the replay cache: a proof used at one is refused at the other; Redis down is 503', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const a = await startAuth(t, { REDIS_URL: url })
  const { port, close } = await reservePort()
  await close()
  const b = await buildAuth(t, { REDIS_URL: url, ISSUER_URL: a.url, KEYS_DIR: a.keysDir })
  await b.listen({ host: '127.0.0.1', port })
  await addUser(a, 'dave', 'dave password 1')
  const client = proofKey()
  const proof = makeProof(client, 'POST', `${a.url}/auth/login`)
  const body = { username: 'dave', password: 'dave password 1' }
  t.equal((await post(`${a.url}/auth/login`, body, { dpop: proof })).status, 200)
  const replayed = await post(`http://127.0.0.1:${port}/auth/login`, body, { dpop: proof })
  t.equal(replayed.status, 400)
  t.match(replayed.body, { code: 'AUTH_INVALID_DPOP_PROOF', message: /already used/ })

  // Two replicas of the resource service with REDIS_URL share its replay cache the same way.
  const login = await post(`${a.url}/auth/login`, body, { dpop: makeProof(client, 'POST', `${a.url}/auth/login`) })
  const token = login.body.access_token as string
  const one = await startResource(t, a.url, { REDIS_URL: url })
  const two = await buildResourceApp(resourceAppOptions(loadResourceEnv({ ISSUER_URL: a.url, RESOURCE_PUBLIC_URL: one.url, REDIS_URL: url })))
  t.teardown(() => two.close())
  const resourceProof = makeProof(client, 'GET', `${one.url}/resource/protected`, { accessToken: token })
  const headers = { authorization: `DPoP ${token}`, dpop: resourceProof }
  t.equal((await fetch(`${one.url}/resource/protected`, { headers })).status, 200)
  const again = await two.inject({ url: '/resource/protected', headers })
  t.equal(again.statusCode, 401)
  t.match(again.json(), { code: 'AUTH_DPOP_PROOF_INVALID' })
  const resourceDown = await startResource(t, a.url, { REDIS_URL: 'redis://127.0.0.1:1' })
  const fresh = makeProof(client, 'GET', `${resourceDown.url}/resource/protected`, { accessToken: token })
  const unavailableThere = await fetch(`${resourceDown.url}/resource/protected`, { headers: { authorization: `DPoP ${token}`, dpop: fresh } })
  t.equal(unavailableThere.status, 503)
  t.match(await unavailableThere.json(), { code: 'AUTH_DPOP_REPLAY_UNAVAILABLE' })

  const down = await startAuth(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const unavailable = await post(`${down.url}/auth/login`, body, { dpop: makeProof(proofKey(), 'POST', `${down.url}/auth/login`) })
  t.equal(unavailable.status, 503)
  t.match(unavailable.body, { code: 'AUTH_DPOP_REPLAY_UNAVAILABLE' })
})
