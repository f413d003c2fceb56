// The verifier with DPoP (RFC 9449 §7): bound tokens with fresh proofs over a JWKS served on real
// HTTP; one refusal for each rule, each with its code, reason and challenge; the downgrades; the
// replay cache in memory and in Redis shared by two verifiers; the token cache; the modes.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { connect } from 'node:net'
import { createNonces } from '../../plugins/verifier/dpop-nonce.js'
import { jwkThumbprint } from '../../plugins/verifier/dpop-proof.js'
import { errorHandler } from '../../services/shared/error-handler.js'
import { redisUrl } from '../redis.js'
import { buildVerifierApp, makeKey, signToken, startJwksServer } from '../verifier/helpers.js'
import { makeProof, proofKey } from './helpers.js'

const PUBLIC = 'https://api.example.com'
const HTU = `${PUBLIC}/p`
const key = makeKey()
const client = proofKey()
const jkt = jwkThumbprint(client.publicJwk as Record<string, unknown>)!
const ALGS = 'ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519'

async function setup (t: Test, options: Partial<VerifierPluginOptions> = {}) {
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, publicUrl: PUBLIC, ...options })
  const bound = signToken(key, jwks.url, { cnf: { jkt } })
  const unbound = signToken(key, jwks.url)
  return { app, jwks, bound, unbound }
}

type App = Awaited<ReturnType<typeof setup>>['app']

function call (app: App, headers: Record<string, string | string[]>, url = '/p', method: 'GET' | 'POST' = 'GET') {
  return app.inject({ method, url, headers })
}

const dpopCall = (app: App, token: string, proof: string | string[], extra: Record<string, string> = {}, url?: string) =>
  call(app, { authorization: `DPoP ${token}`, dpop: proof, ...extra }, url)

async function refused (t: Test, response: Awaited<ReturnType<typeof call>>, code: string, reason: string, error: string, name: string) {
  t.equal(response.statusCode, code.endsWith('UNAVAILABLE') ? 503 : 401, name)
  t.match(response.json(), { code }, name)
  t.match(response.headers['www-authenticate'] ?? '', error === '' ? /^$/ : new RegExp(`^DPoP realm="api", algs="${ALGS}", error="${error}"`), name)
  return reason
}

t.test('a bound token with a fresh proof of its key is accepted; every rule of RFC 9449 §4.3 and §7 refuses with its reason', async (t) => {
  const { app, bound, unbound } = await setup(t)
  const reasons = () => (app as unknown as { reasons?: string[] }).reasons
  t.notOk(reasons())
  const ok = await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound }))
  t.equal(ok.statusCode, 200)
  t.equal((await call(app, { authorization: `dpop   ${bound}`, dpop: makeProof(client, 'GET', HTU, { accessToken: bound }) })).statusCode, 200, 'the scheme in any case')
  t.equal((await call(app, { authorization: `Bearer ${unbound}` })).statusCode, 200, 'Bearer still works for unbound tokens')
  // The query is no part of htu.
  t.equal((await dpopCall(app, bound, makeProof(client, 'GET', `${HTU}?other=1`, { accessToken: bound }), {}, '/p?x=1')).statusCode, 200)

  const replayedProof = makeProof(client, 'GET', HTU, { accessToken: bound })
  t.equal((await dpopCall(app, bound, replayedProof)).statusCode, 200)
  const other = proofKey()
  const now = Math.floor(Date.now() / 1000)
  const proof = (options: Parameters<typeof makeProof>[3] = {}, key = client, htm = 'GET', htu = HTU) => makeProof(key, htm, htu, { accessToken: bound, ...options })
  const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof call>>>, string, string]> = [
    ['a replayed proof', () => dpopCall(app, bound, replayedProof), 'AUTH_DPOP_PROOF_INVALID', 'dpop_replayed'],
    ['a wrong htm', () => dpopCall(app, bound, proof({}, client, 'POST')), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_method'],
    ['an htu with another path', () => dpopCall(app, bound, proof({}, client, 'GET', `${PUBLIC}/q`)), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_url'],
    ['an htu with another host', () => dpopCall(app, bound, proof({}, client, 'GET', 'https://evil.example.com/p')), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_url'],
    ['an htu naming a spoofed Host', () => dpopCall(app, bound, proof({}, client, 'GET', 'http://evil.example.com/p'), { host: 'evil.example.com' }), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_url'],
    ['an htu naming a spoofed X-Forwarded-Host', () => dpopCall(app, bound, proof({}, client, 'GET', 'https://evil.example.com/p'), { 'x-forwarded-host': 'evil.example.com', 'x-forwarded-proto': 'https' }), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_url'],
    ['a stale iat', () => dpopCall(app, bound, proof({ claims: { iat: now - 600 } })), 'AUTH_DPOP_PROOF_INVALID', 'dpop_stale'],
    ['a future iat', () => dpopCall(app, bound, proof({ claims: { iat: now + 600 } })), 'AUTH_DPOP_PROOF_INVALID', 'dpop_stale'],
    ['a wrong ath', () => dpopCall(app, bound, proof({ accessToken: unbound })), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_ath'],
    ['no ath', () => dpopCall(app, bound, makeProof(client, 'GET', HTU)), 'AUTH_DPOP_PROOF_INVALID', 'dpop_bad_claims'],
    ['a proof made with another key', () => dpopCall(app, bound, proof({}, other)), 'AUTH_DPOP_PROOF_INVALID', 'dpop_wrong_key'],
    ['a private key embedded in the proof', () => dpopCall(app, bound, proof({ header: { jwk: client.privateKey.export({ format: 'jwk' }) } })), 'AUTH_DPOP_PROOF_INVALID', 'dpop_bad_key'],
    ['an HS256 proof', () => dpopCall(app, bound, proof({ header: { alg: 'HS256' } })), 'AUTH_DPOP_PROOF_INVALID', 'dpop_alg_not_allowed'],
    ['two DPoP headers', () => dpopCall(app, bound, [proof(), proof()]), 'AUTH_DPOP_PROOF_INVALID', 'dpop_malformed'],
    ['a comma in the header', () => dpopCall(app, bound, `${proof()},${proof()}`), 'AUTH_DPOP_PROOF_INVALID', 'dpop_malformed'],
    ['a bound token without a proof', () => call(app, { authorization: `DPoP ${bound}` }), 'AUTH_DPOP_PROOF_INVALID', 'dpop_missing'],
    ['an unbound token with the DPoP scheme', () => dpopCall(app, unbound, makeProof(client, 'GET', HTU, { accessToken: unbound })), 'AUTH_TOKEN_INVALID', 'dpop_unbound']
  ]
  for (const [name, send, code, reason] of cases) {
    const response = await send()
    const error = code === 'AUTH_TOKEN_INVALID' ? 'invalid_token' : 'invalid_dpop_proof'
    t.equal(await refused(t, response, code, reason, error, name), reason)
    t.match(response.json(), { statusCode: 401, code }, name)
  }
  // The reason of each refusal, as metrics and logs see them.
  const { reasonsOf } = await import('../verifier/helpers.js')
  t.same(reasonsOf(app), cases.map(([, , , reason]) => reason))
  // A spoofed Host changes nothing for an honest proof: the public URL is what counts.
  t.equal((await dpopCall(app, bound, proof(), { host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' })).statusCode, 200)
})

t.test('the downgrades: a bound token as Bearer, a proof with an unbound token; no credentials offer both schemes', async (t) => {
  const { app, bound, unbound } = await setup(t)
  const asBearer = await call(app, { authorization: `Bearer ${bound}` })
  t.equal(asBearer.statusCode, 401)
  t.match(asBearer.json(), { code: 'AUTH_TOKEN_INVALID' })
  t.match(asBearer.headers['www-authenticate'], /^DPoP realm="api", algs="[^"]+", error="invalid_token"/)
  const withProof = await call(app, { authorization: `Bearer ${bound}`, dpop: makeProof(client, 'GET', HTU, { accessToken: bound }) })
  t.equal(withProof.statusCode, 401, 'a bound token as Bearer, even with its proof')
  const unboundWithProof = await call(app, { authorization: `Bearer ${unbound}`, dpop: makeProof(client, 'GET', HTU, { accessToken: unbound }) })
  t.equal(unboundWithProof.statusCode, 401)
  t.match(unboundWithProof.headers['www-authenticate'], /^DPoP realm="api", algs="[^"]+", error="invalid_token"/)
  const none = await call(app, {})
  t.equal(none.headers['www-authenticate'], `Bearer realm="api", DPoP realm="api", algs="${ALGS}"`)
  t.match(none.json(), { code: 'AUTH_TOKEN_MISSING' })
  // A refusal of the token itself, sent with the DPoP scheme, is a DPoP challenge.
  const foreign = signToken(key, (await startJwksServer(t)).url, { cnf: { jkt } })
  const response = await dpopCall(app, foreign, makeProof(client, 'GET', HTU, { accessToken: foreign }))
  t.match(response.json(), { code: 'AUTH_TOKEN_INVALID' })
  t.match(response.headers['www-authenticate'], /^DPoP realm="api", algs="[^"]+", error="invalid_token"/)
})

t.test('dpop: required refuses every token without a proof; its challenge offers DPoP only; a custom algorithm list', async (t) => {
  const { app, bound, unbound } = await setup(t, { dpop: 'required', dpopAlgorithms: ['ES256'] })
  const bearer = await call(app, { authorization: `Bearer ${unbound}` })
  t.equal(bearer.statusCode, 401)
  t.match(bearer.json(), { code: 'AUTH_TOKEN_INVALID' })
  t.match(bearer.headers['www-authenticate'], /^DPoP realm="api", algs="ES256", error="invalid_token"/)
  t.equal((await call(app, {})).headers['www-authenticate'], 'DPoP realm="api", algs="ES256"')
  t.equal((await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound }))).statusCode, 200)
  const ed = proofKey('Ed25519')
  const refusedAlg = await dpopCall(app, bound, makeProof(ed, 'GET', HTU, { accessToken: bound }))
  t.match(refusedAlg.json(), { code: 'AUTH_DPOP_PROOF_INVALID' })
})

t.test('dpop: off takes Bearer only, and still refuses a bound token', async (t) => {
  const { app, bound, unbound } = await setup(t, { dpop: 'off' })
  t.equal((await call(app, { authorization: `Bearer ${unbound}`, dpop: 'ignored' })).statusCode, 200)
  const asBearer = await call(app, { authorization: `Bearer ${bound}` })
  t.match(asBearer.json(), { code: 'AUTH_TOKEN_INVALID', message: /does not take DPoP/ })
  t.match(asBearer.headers['www-authenticate'], /^Bearer realm="api", error="invalid_token"/)
  const scheme = await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound }))
  t.match(scheme.json(), { code: 'AUTH_TOKEN_MISSING' })
  t.equal(scheme.headers['www-authenticate'], 'Bearer realm="api"')
})

t.test('the default mode without publicUrl is off (bound tokens refused); an explicit mode without it is refused at registration', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl })
  const asBearer = await call(app, { authorization: `Bearer ${signToken(key, jwks.url, { cnf: { jkt } })}` })
  t.match(asBearer.json(), { code: 'AUTH_TOKEN_INVALID', message: /does not take DPoP/ })
  t.equal((await call(app, {})).headers['www-authenticate'], 'Bearer realm="api"')
  for (const dpop of ['allowed', 'required'] as const) {
    const bare = Fastify()
    t.teardown(() => bare.close())
    await t.rejects(async () => { await bare.register(verifier, { issuer: jwks.url, audience: 'a', dpop }).ready() }, /option publicUrl: is required with dpop/)
  }
  const refusals: Array<[Partial<VerifierPluginOptions>, RegExp]> = [
    [{ dpop: 'sometimes' as never }, /option dpop: "sometimes" cannot work; write 'off', 'allowed' or 'required'/],
    [{ publicUrl: 'api.example.com' }, /option publicUrl: .* write this service's public origin/],
    [{ publicUrl: 'https://api.example.com:99999' }, /option publicUrl: "https:\/\/api.example.com:99999" is not a URL/],
    [{ publicUrl: 'https://user:pw@api.example.com' }, /option publicUrl: .* is not a URL/],
    [{ dpopAlgorithms: ['HS256' as never] }, /option dpopAlgorithms\.0: "HS256" cannot work/],
    [{ dpopMaxAge: 0 }, /option dpopMaxAge: 0 cannot work/],
    [{ dpopReplay: 'redis' as never }, /option dpopReplay: "redis" cannot work/],
    [{ dpopReplay: { redis: {} as never } }, /option dpopReplay\.redis: is not a Redis client/],
    [{ dpopReplay: { redis: { set: async () => 'OK' }, other: 1 } as never }, /option dpopReplay\.other: there is no such option/]
  ]
  for (const [options, message] of refusals) {
    const bare = Fastify()
    t.teardown(() => bare.close())
    await t.rejects(async () => { await bare.register(verifier, { issuer: jwks.url, audience: 'a', ...options }).ready() }, message)
  }
})

t.test('publicUrl with a path prefix (behind a proxy): htu is it plus the request path; an absolute-form target matches nothing', async (t) => {
  const { app, bound } = await setup(t, { publicUrl: 'https://gw.example.com/orders/' })
  t.equal((await dpopCall(app, bound, makeProof(client, 'GET', 'https://gw.example.com/orders/p', { accessToken: bound }))).statusCode, 200)
  t.equal((await dpopCall(app, bound, makeProof(client, 'GET', 'https://gw.example.com/p', { accessToken: bound }))).statusCode, 401)
})

t.test('the token cache: a cached bound token still needs a fresh proof on every request', async (t) => {
  const { app, bound } = await setup(t, { tokenCacheMax: 10 })
  const first = makeProof(client, 'GET', HTU, { accessToken: bound })
  t.equal((await dpopCall(app, bound, first)).statusCode, 200)
  t.equal((await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound }))).statusCode, 200, 'from the cache, with a fresh proof')
  t.match((await dpopCall(app, bound, first)).json(), { code: 'AUTH_DPOP_PROOF_INVALID' }, 'the first proof again')
  t.match((await call(app, { authorization: `DPoP ${bound}` })).json(), { code: 'AUTH_DPOP_PROOF_INVALID' }, 'no proof')
  t.match((await call(app, { authorization: `Bearer ${bound}` })).json(), { code: 'AUTH_TOKEN_INVALID' }, 'as Bearer')
  t.match((await dpopCall(app, bound, makeProof(proofKey(), 'GET', HTU, { accessToken: bound }))).json(), { code: 'AUTH_DPOP_PROOF_INVALID' }, 'another key')
})

t.test('a cnf without jkt (another confirmation method) is refused', async (t) => {
  const { app, jwks } = await setup(t)
  const token = signToken(key, jwks.url, { cnf: { 'x5t#S256': 'abc' } })
  t.match((await call(app, { authorization: `Bearer ${token}` })).json(), { code: 'AUTH_TOKEN_INVALID', message: /cnf/ })
})

t.test('the replay cache in Redis: two verifiers share it (one SET NX); Redis down is 503, never a 500', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const redis = new Redis(url, { lazyConnect: true })
  t.teardown(() => redis.quit())
  const prefix = `dpop-test:${Date.now()}:`
  const one = await setup(t, { dpopReplay: { redis, prefix } })
  const two = await buildVerifierApp(t, { issuer: one.jwks.url, audience: 'ssot-api', jwksUrl: one.jwks.jwksUrl, publicUrl: PUBLIC, dpopReplay: { redis, prefix } })
  const proof = makeProof(client, 'GET', HTU, { accessToken: one.bound })
  t.equal((await dpopCall(one.app, one.bound, proof)).statusCode, 200)
  const replayed = await dpopCall(two, one.bound, proof)
  t.equal(replayed.statusCode, 401)
  t.match(replayed.json(), { code: 'AUTH_DPOP_PROOF_INVALID' })
  t.match(replayed.headers['www-authenticate'], /error="invalid_dpop_proof"/)
  t.equal((await dpopCall(two, one.bound, makeProof(client, 'GET', HTU, { accessToken: one.bound }))).statusCode, 200)
  const keys = await redis.keys(`${prefix}*`)
  t.equal(keys.length, 2)
  const ttl = await redis.pttl(keys[0]!)
  t.ok(ttl > 60_000 && ttl <= 70_000, `kept for maxAge + 2 x tolerance (${ttl} ms)`)
  await redis.del(...keys)

  const broken = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  broken.on('error', () => {})
  t.teardown(() => broken.disconnect())
  const down = await buildVerifierApp(t, { issuer: one.jwks.url, audience: 'ssot-api', jwksUrl: one.jwks.jwksUrl, publicUrl: PUBLIC, dpopReplay: { redis: broken } })
  const unavailable = await dpopCall(down, one.bound, makeProof(client, 'GET', HTU, { accessToken: one.bound }))
  t.equal(unavailable.statusCode, 503)
  t.match(unavailable.json(), { code: 'AUTH_DPOP_REPLAY_UNAVAILABLE' })
  t.equal(unavailable.headers['retry-after'], '1')
  t.notOk(unavailable.headers['www-authenticate'])
})

t.test('request.jwtDecode() reads a token sent with the DPoP scheme', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, publicUrl: PUBLIC, revocations: false })
  app.get('/decode', async (request) => (await request.jwtDecode<{ payload: { cnf: unknown } }>()).payload.cnf)
  t.teardown(() => app.close())
  const bound = signToken(key, jwks.url, { cnf: { jkt } })
  t.same((await app.inject({ url: '/decode', headers: { authorization: `DPoP ${bound}` } })).json(), { jkt })
})

t.test('server nonces: a proof without a fresh one gets 401 use_dpop_nonce and the nonce; every answer carries the next', async (t) => {
  const secret = 'n'.repeat(32)
  const { app, bound, unbound } = await setup(t, { dpopNonceSecret: secret })
  const first = await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound }))
  t.equal(first.statusCode, 401)
  t.match(first.json(), { code: 'AUTH_DPOP_NONCE_REQUIRED' })
  t.match(first.headers['www-authenticate'], /^DPoP realm="api", algs="[^"]+", error="use_dpop_nonce"/)
  t.equal(first.headers['cache-control'], 'no-store')
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/)
  t.equal(createNonces({ secret }).current(), nonce, 'the nonce any replica with the secret issues')
  const ok = await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound, claims: { nonce } }))
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['dpop-nonce'], nonce)
  t.equal(ok.headers['cache-control'], 'no-store')
  const forged = await dpopCall(app, bound, makeProof(client, 'GET', HTU, { accessToken: bound, claims: { nonce: createNonces({ secret: 'x'.repeat(32) }).current() } }))
  t.match(forged.json(), { code: 'AUTH_DPOP_NONCE_REQUIRED' })
  const bearer = await call(app, { authorization: `Bearer ${unbound}` })
  t.equal(bearer.statusCode, 200)
  t.notOk(bearer.headers['dpop-nonce'], 'Bearer requests get no nonce')
})

t.test('nonces: a slot and the two before it; nothing else', async (t) => {
  const nonces = createNonces({ secret: 's'.repeat(32), slotSeconds: 60, slots: 3 })
  const now = 1_700_000_000_000
  const nonce = nonces.current(now)
  t.ok(nonces.valid(nonce, now))
  t.ok(nonces.valid(nonce, now + 120_000))
  t.notOk(nonces.valid(nonce, now + 180_000), 'three slots later')
  t.notOk(nonces.valid(nonce, now - 60_000), 'a slot to come')
  t.notOk(nonces.valid(undefined, now))
  t.notOk(nonces.valid(`${nonce}x`, now))
  t.notOk(nonces.valid(nonce.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`), now))
})

t.test('an absolute-form request target names no URL a proof can match (real HTTP)', async (t) => {
  const { app, bound } = await setup(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const proof = makeProof(client, 'GET', HTU, { accessToken: bound })
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${HTU} HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: DPoP ${bound}\r\nDPoP: ${proof}\r\nConnection: close\r\n\r\n`)
    })
    let text = ''
    socket.on('data', (chunk) => { text += chunk })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 401/)
  t.match(answer, /"code":"AUTH_DPOP_PROOF_INVALID"/)
  t.notMatch(answer, /^HTTP\/1\.1 200/)
})
