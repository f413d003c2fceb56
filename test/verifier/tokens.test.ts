// Every way a token can be wrong gives a 401 with a stable code, a reason and an RFC 6750
// challenge; none of the pre-key checks costs a JWKS fetch.
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { forge, validClaims } from '../forge.js'
import { buildVerifierApp, reasonsOf, callWith, ecdsaTwin, makeKey, randomKid, signToken, sleep, startJwksServer } from './helpers.js'

const key = makeKey()

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** The same bytes, spelled otherwise: the last character's unused low bits set (a 256-byte signature leaves 4). */
function respelled (signature: string): string {
  return signature.slice(0, -1) + BASE64URL[BASE64URL.indexOf(signature.at(-1)!) + 1]
}

t.test('an honest token passes; each bad one is refused with its reason', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const issuer = jwks.url
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api', jwksUrl: jwks.jwksUrl })
  const ok = await callWith(app, signToken(key, issuer))
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { sub: 'user-1' })
  const now = Math.floor(Date.now() / 1000)
  for (const claims of [{ aud: ['other-api', 'ssot-api'] }, { nbf: now }, { exp: now - 2, iat: now - 10 }]) {
    t.equal((await callWith(app, signToken(key, issuer, claims))).statusCode, 200, `${JSON.stringify(claims)} is accepted (clock tolerance 5 s)`)
  }
  for (const typ of ['application/at+jwt', 'AT+JWT']) {
    t.equal((await callWith(app, signToken(key, issuer, {}, { typ }))).statusCode, 200, `typ ${typ} (RFC 9068 §4: the media type, case-insensitive)`)
  }
  const fetchesAfterWarmUp = jwks.fetches
  const other = makeKey(key.kid)
  const hs = createSigner({ key: 'secret', algorithm: 'HS256', kid: key.kid, header: { alg: 'HS256', typ: 'at+jwt' } })({ iss: issuer })
  const [header, payload, signature] = signToken(key, issuer).split('.') as [string, string, string]
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const cases: Array<[string, string, string]> = [
    ['malformed', 'not.a.jwt', 'AUTH_TOKEN_INVALID'],
    ['malformed', `not.${payload}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${b64([header])}.${payload}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${b64('claims')}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${payload}.${signature}=`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${payload}.${respelled(signature)}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${payload.slice(0, 8)}+${payload.slice(8)}.${signature}`, 'AUTH_TOKEN_INVALID'],
    // The alphabet of every part, not only its last character's: fast-jwt's decoder checks it.
    ['malformed', `${header.slice(0, 4)}/${header.slice(4)}.${payload}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${payload}.${signature.slice(0, 8)}~${signature.slice(8)}`, 'AUTH_TOKEN_INVALID'],
    ['malformed', `${header}.${payload}.${signature}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['alg_not_allowed', hs, 'AUTH_TOKEN_INVALID'],
    ['wrong_type', signToken(key, issuer, {}, { typ: 'JWT' }), 'AUTH_TOKEN_INVALID'],
    ['bad_kid', signToken({ ...key, kid: '../../etc/passwd' }, issuer), 'AUTH_TOKEN_INVALID'],
    ['wrong_issuer', signToken(key, 'https://evil.example'), 'AUTH_TOKEN_INVALID'],
    ['bad_signature', signToken(other, issuer), 'AUTH_TOKEN_INVALID'],
    ['bad_signature', `${header}.${payload}.`, 'AUTH_TOKEN_INVALID'],
    ['bad_signature', `${header}.${signToken(key, issuer, { sub: 'admin' }).split('.')[1]}.${signature}`, 'AUTH_TOKEN_INVALID'],
    ['wrong_audience', signToken(key, issuer, { aud: 'other-api' }), 'AUTH_TOKEN_INVALID'],
    ['wrong_audience', signToken(key, issuer, { aud: ['other-api', 'more'] }), 'AUTH_TOKEN_INVALID'],
    ['expired', signToken(key, issuer, { iat: now - 1000, exp: now - 100 }), 'AUTH_TOKEN_EXPIRED'],
    ['not_yet_valid', signToken(key, issuer, { nbf: now + 100 }), 'AUTH_TOKEN_INVALID'],
    ['not_yet_valid', signToken(key, issuer, { iat: now + 100 }), 'AUTH_TOKEN_INVALID'],
    ['bad_claims', signToken(key, issuer, { sub: undefined }), 'AUTH_TOKEN_INVALID'],
    ['bad_claims', signToken(key, issuer, { scope: 42 }), 'AUTH_TOKEN_INVALID'],
    ['bad_claims', signToken(key, issuer, { aud: 42 }), 'AUTH_TOKEN_INVALID'],
    ['bad_claims', forge({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, validClaims(issuer, { nbf: 'soon' }), { alg: 'RS256', privatePem: key.privatePem }), 'AUTH_TOKEN_INVALID'],
    ['bad_claims', signToken(key, issuer, { exp: undefined }), 'AUTH_TOKEN_INVALID'],
    ['malformed', signToken(key, issuer, {}, { crit: ['exp'] }), 'AUTH_TOKEN_INVALID'],
    ['alg_not_allowed', signToken(key, issuer, {}, { alg: 'RS384' }).split('.').slice(0, 2).join('.') + '.' + signToken(key, issuer).split('.')[2], 'AUTH_TOKEN_INVALID']
  ]
  for (const [reason, token, code] of cases) {
    const response = await callWith(app, token)
    t.equal(response.statusCode, 401, reason)
    t.equal(response.json().code, code, reason)
    t.match(response.headers['www-authenticate'], /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/, reason)
  }
  t.same(reasonsOf(app), cases.map(([reason]) => reason), 'each error carries its reason')
  t.equal(jwks.fetches, fetchesAfterWarmUp, 'no JWKS fetch for any of them')
})

t.test('no token, another scheme, or a broken Bearer header', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, realm: 'my "api"' })
  const none = await app.inject({ url: '/p' })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'AUTH_TOKEN_MISSING')
  t.equal(none.headers['www-authenticate'], 'Bearer realm="my api"', 'no error attribute when no token (RFC 6750 §3.1)')
  const basic = await app.inject({ url: '/p', headers: { authorization: 'Basic YTpi' } })
  t.equal(basic.json().code, 'AUTH_TOKEN_MISSING')
  for (const authorization of ['Bearer', 'Bearer\tx']) {
    const alone = await app.inject({ url: '/p', headers: { authorization } })
    t.equal(alone.json().code, 'AUTH_TOKEN_INVALID', `${JSON.stringify(authorization)}: a bearer scheme without a token`)
  }
  const broken = await app.inject({ url: '/p', headers: { authorization: 'Bearer a b' } })
  t.equal(broken.statusCode, 401)
  t.equal(broken.json().code, 'AUTH_TOKEN_INVALID')
})

t.test('several issuers: the token\'s iss picks one of the configured key sources, never a new one', async (t) => {
  const keyA = makeKey()
  const keyB = makeKey()
  const a = await startJwksServer(t, [keyA])
  const b = await startJwksServer(t, [keyB])
  b.cacheControl = 'public'
  const app = await buildVerifierApp(t, {
    issuer: [{ issuer: 'https://a.example', jwksUrl: a.jwksUrl }, { issuer: b.url }],
    audience: ['ssot-api', 'other']
  })
  t.equal((await callWith(app, signToken(keyA, 'https://a.example'))).statusCode, 200)
  t.equal((await callWith(app, signToken(keyB, b.url))).statusCode, 200)
  const crossed = await callWith(app, signToken(keyA, b.url))
  t.equal(crossed.statusCode, 401, 'a key of issuer A does not vouch for issuer B')
  t.equal(app.verifier.stats().keysCached, 2)
})

t.test('EC keys work when ES256 is allowed, and an RS256 token may not use them', async (t) => {
  const ec = makeKey(undefined, 'ES256')
  const jwks = await startJwksServer(t, [ec, key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: ['RS256', 'ES256'] })
  t.equal((await callWith(app, signToken(ec, jwks.url))).statusCode, 200)
  t.equal((await callWith(app, signToken(key, jwks.url))).statusCode, 200)
  t.equal((await callWith(app, signToken({ ...key, kid: ec.kid }, jwks.url))).statusCode, 401)
  t.same(reasonsOf(app), ['alg_not_allowed'])
})

t.test('every allowed algorithm verifies with a key that suits it, and only with that one', async (t) => {
  const algorithms = ['RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES384', 'ES512'] as const
  const keys = algorithms.map((alg) => makeKey(undefined, alg))
  const jwks = await startJwksServer(t, keys)
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: [...algorithms] })
  for (const [i, alg] of algorithms.entries()) {
    t.equal((await callWith(app, signToken(keys[i]!, jwks.url))).statusCode, 200, alg)
  }
  // The RSA key published for PS256 signs an RS384 token: the JWK's alg says PS256 only.
  const relabelled = signToken({ ...keys[0]!, kid: keys[2]!.kid }, jwks.url)
  t.equal((await callWith(app, relabelled)).statusCode, 401)
  t.same(reasonsOf(app), ['alg_not_allowed'])
})

t.test('an ECDSA signature is accepted in its low-S form only: one spelling per token', async (t) => {
  const algorithms = ['ES256', 'ES384', 'ES512'] as const
  const keys = algorithms.map((alg) => makeKey(undefined, alg))
  const jwks = await startJwksServer(t, keys)
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: [...algorithms] })
  for (const [i, alg] of algorithms.entries()) {
    const low = signToken(keys[i]!, jwks.url)
    const high = ecdsaTwin(low, alg)
    t.not(high, low)
    t.equal((await callWith(app, low)).statusCode, 200, `${alg}, low S`)
    const refused = await callWith(app, high)
    t.equal(refused.statusCode, 401, `${alg}, its high-S twin`)
    t.match(refused.headers['www-authenticate'], /error_description="The access token is invalid: the ECDSA signature is not in its low-S form"/)
    const cut = low.lastIndexOf('.')
    const short = `${low.slice(0, cut + 1)}${Buffer.from(low.slice(cut + 1), 'base64url').subarray(1).toString('base64url')}`
    t.equal((await callWith(app, short)).statusCode, 401, `${alg}, a signature a byte short`)
  }
  t.same(reasonsOf(app), Array(6).fill('bad_signature'))
})

t.test('a JWK without alg verifies one algorithm: the first allowed one that suits its key', async (t) => {
  const rsa = makeKey()
  const ec = makeKey(undefined, 'ES256')
  const jwks = await startJwksServer(t)
  jwks.keys = [{ ...rsa.jwk, alg: undefined }, { ...ec.jwk, alg: undefined }]
  const rsFirst = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: ['ES256', 'RS256', 'PS256'] })
  const psFirst = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: ['PS256', 'RS256'] })
  const as = (alg: 'RS256' | 'PS256') => signToken({ ...rsa, jwk: { alg } }, jwks.url)
  t.equal((await callWith(rsFirst, as('RS256'))).statusCode, 200, 'RS256, listed first for RSA keys')
  t.equal((await callWith(rsFirst, as('PS256'))).statusCode, 401, 'PS256 with the same key')
  t.equal((await callWith(rsFirst, signToken(ec, jwks.url))).statusCode, 200, 'the EC key: ES256')
  t.equal((await callWith(psFirst, as('PS256'))).statusCode, 200, 'PS256, listed first')
  t.equal((await callWith(psFirst, as('RS256'))).statusCode, 401, 'RS256 with the same key')
  t.same(reasonsOf(rsFirst), ['alg_not_allowed'])
  t.same(reasonsOf(psFirst), ['alg_not_allowed'])
})

t.test('keys of odd types in the JWK Set are skipped; the usable ones still verify', async (t) => {
  const odd = ['constructor', '__proto__', 'toString', 'oct'].map((kty) => ({ kty, kid: `odd-${kty.replace(/_/g, '')}`, k: 'c2VjcmV0' }))
  const jwks = await startJwksServer(t, [key])
  jwks.keys = [...odd, key.jwk]
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl })
  t.equal((await callWith(app, signToken(key, jwks.url))).statusCode, 200)
  t.equal(app.verifier.stats().keysCached, 1)
})

t.test('discovery reads jwks_uri from the configured issuer only', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const issuer = jwks.url
  jwks.respond = (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }))
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ keys: [key.jwk] }))
    }
  }
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api', discovery: true, cooldown: 100, keyCacheTtl: 1000 })
  t.equal((await callWith(app, signToken(key, issuer))).statusCode, 200)
  await sleep(150) // past the cooldown: an unknown kid may cost one more JWKS fetch
  t.equal((await callWith(app, signToken({ ...key, kid: randomKid() }, issuer))).statusCode, 401)
  t.equal(jwks.fetches, 3, 'discovery once, then the JWKS twice')
})

t.test('a discovery document naming another issuer, or no jwks_uri, is refused', async (t) => {
  for (const document of [{ issuer: 'https://evil.example', jwks_uri: 'https://evil.example/k' }, { issuer: '' }, null]) {
    const jwks = await startJwksServer(t, [key])
    if (document) document.issuer ||= jwks.url
    jwks.respond = (req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document)) }
    const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', discovery: true })
    const response = await callWith(app, signToken(key, jwks.url))
    t.equal(response.statusCode, 503)
    t.equal(response.json().code, 'AUTH_JWKS_UNAVAILABLE')
  }
})
