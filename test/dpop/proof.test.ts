// The DPoP proof checker on its own: the RFC 9449 examples as fixed vectors (the clock frozen at
// 1562262618), then one refusal for each rule of §4.3, each with its reason.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { createProofChecker, DPOP_ALGORITHMS, jwkThumbprint, normalizeHtu, sha256Base64url, type ProofRequest } from '../../plugins/verifier/dpop-proof.js'
import { memoryReplayStore, redisReplayStore } from '../../plugins/verifier/dpop-replay.js'
import { makeProof, proofKey, signJws } from './helpers.js'

const NOW = 1562262618_000
// RFC 9449 Figure 2 (a token request) and Figure 13 (a resource request), and the Figure 4 key.
const FIGURE_2 = 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.' +
  'eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.' +
  '2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg'
const FIGURE_13 = 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.' +
  'eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.' +
  '2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA'
const FIGURE_4_KEY = { kty: 'EC', x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs', y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA', crv: 'P-256' }
const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
const ACCESS_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'

const check = createProofChecker({ algorithms: DPOP_ALGORITHMS, maxAge: 60, clockTolerance: 5 })
const HTU = 'https://api.example.com/resource'

function reasonOf (request: ProofRequest, checker = check): string | undefined {
  try {
    checker(request)
    return undefined
  } catch (err) {
    const error = err as { code: string, reason: string, statusCode: number }
    t.equal(error.code, 'AUTH_DPOP_PROOF_INVALID')
    t.equal(error.statusCode, 401)
    return error.reason
  }
}

t.test('RFC 9449: the proofs of Figures 2 and 13 verify with the Figure 4 key; its thumbprint and the ath of the example token', async (t) => {
  t.equal(jwkThumbprint(FIGURE_4_KEY), JKT)
  t.equal(sha256Base64url(ACCESS_TOKEN), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo')
  const token = check({ header: FIGURE_2, method: 'POST', htu: 'https://server.example.com/token', now: NOW })
  t.match(token, { jkt: JKT, jti: '-BwC3ESc6acc2lTc', iat: 1562262616 })
  const resource = check({ header: FIGURE_13, method: 'GET', htu: 'https://resource.example.org/protectedresource', accessToken: ACCESS_TOKEN, now: NOW })
  t.match(resource, { jkt: JKT, jti: 'e1j3V_bKic8-LAEB', iat: 1562262618 })
  t.equal(reasonOf({ header: FIGURE_13, method: 'GET', htu: 'https://resource.example.org/protectedresource', accessToken: `${ACCESS_TOKEN}x`, now: NOW }), 'dpop_wrong_ath')
  // The same proofs an hour later: too old.
  t.equal(reasonOf({ header: FIGURE_2, method: 'POST', htu: 'https://server.example.com/token', now: NOW + 3_600_000 }), 'dpop_stale')
})

t.test('every algorithm of the allowlist verifies with a key of its kind; Ed25519 keys under both names', async (t) => {
  for (const alg of DPOP_ALGORITHMS) {
    const key = proofKey(alg)
    const checked = check({ header: makeProof(key, 'GET', HTU), method: 'GET', htu: HTU })
    t.equal(checked.jkt, jwkThumbprint(key.publicJwk as Record<string, unknown>), alg)
  }
  const only = createProofChecker({ algorithms: ['ES256'], maxAge: 60, clockTolerance: 0 })
  t.equal(reasonOf({ header: makeProof(proofKey('Ed25519'), 'GET', HTU), method: 'GET', htu: HTU }, only), 'dpop_alg_not_allowed')
})

t.test('each rule of RFC 9449 §4.3 refuses with its reason', async (t) => {
  const key = proofKey()
  const proof = (options: Parameters<typeof makeProof>[3] = {}) => makeProof(key, 'GET', HTU, options)
  const cases: Array<[string, Partial<ProofRequest>, string]> = [
    ['no header', { header: undefined }, 'dpop_missing'],
    ['an empty header', { header: '' }, 'dpop_missing'],
    ['two headers (joined by Node)', { header: `${proof()}, ${proof()}` }, 'dpop_malformed'],
    ['a comma', { header: `${proof()},` }, 'dpop_malformed'],
    ['an array', { header: [proof()] }, 'dpop_malformed'],
    ['not a JWS', { header: 'abc.def' }, 'dpop_malformed'],
    ['too long', { header: `${'a'.repeat(9000)}.b.c` }, 'dpop_malformed'],
    ['not JSON', { header: 'YWJj.YWJj.YWJj' }, 'dpop_malformed'],
    ['typ JWT', { header: proof({ header: { typ: 'JWT' } }) }, 'dpop_malformed'],
    ['no typ', { header: proof({ header: { typ: undefined } }) }, 'dpop_malformed'],
    ['crit', { header: proof({ header: { crit: ['exp'] } }) }, 'dpop_malformed'],
    ['HS256', { header: signHs256() }, 'dpop_alg_not_allowed'],
    ['alg none', { header: proof({ header: { alg: 'none' } }) }, 'dpop_alg_not_allowed'],
    ['no jwk', { header: proof({ header: { jwk: undefined } }) }, 'dpop_bad_key'],
    ['a jwk array', { header: proof({ header: { jwk: [] } }) }, 'dpop_bad_key'],
    ['a private key in the jwk', { header: proof({ header: { jwk: key.privateKey.export({ format: 'jwk' }) } }) }, 'dpop_bad_key'],
    ['a symmetric jwk', { header: proof({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } }) }, 'dpop_bad_key'],
    ['a jwk that is no key', { header: proof({ header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } }) }, 'dpop_bad_key'],
    ['a key of another kind than alg', { header: proof({ header: { alg: 'RS256' } }) }, 'dpop_bad_key'],
    ['an RSA key under 2048 bits', { header: smallRsa() }, 'dpop_bad_key'],
    ['a proof signed by another key', { header: proof({ header: { jwk: proofKey().publicJwk } }) }, 'dpop_bad_signature'],
    ['a signature of the wrong length', { header: `${proof().slice(0, -4)}` }, 'dpop_bad_signature'],
    ['no jti', { header: proof({ claims: { jti: undefined } }) }, 'dpop_bad_claims'],
    ['a jti too long', { header: proof({ claims: { jti: 'j'.repeat(257) } }) }, 'dpop_bad_claims'],
    ['no htm', { header: proof({ claims: { htm: undefined } }) }, 'dpop_bad_claims'],
    ['no htu', { header: proof({ claims: { htu: 7 } }) }, 'dpop_bad_claims'],
    ['no iat', { header: proof({ claims: { iat: '1' } }) }, 'dpop_bad_claims'],
    ['a nonce that is no string', { header: proof({ claims: { nonce: 1 } }) }, 'dpop_bad_claims'],
    ['another method', { header: proof({ claims: { htm: 'POST' } }) }, 'dpop_wrong_method'],
    ['a method in lower case', { header: proof({ claims: { htm: 'get' } }) }, 'dpop_wrong_method'],
    ['another path', { header: proof({ claims: { htu: 'https://api.example.com/other' } }) }, 'dpop_wrong_url'],
    ['another host', { header: proof({ claims: { htu: 'https://evil.example.com/resource' } }) }, 'dpop_wrong_url'],
    ['another scheme', { header: proof({ claims: { htu: 'http://api.example.com/resource' } }) }, 'dpop_wrong_url'],
    ['userinfo', { header: proof({ claims: { htu: 'https://user@api.example.com/resource' } }) }, 'dpop_wrong_url'],
    ['not a URL', { header: proof({ claims: { htu: 'resource' } }) }, 'dpop_wrong_url'],
    ['a future iat', { header: proof({ claims: { iat: Math.floor(Date.now() / 1000) + 30 } }) }, 'dpop_stale'],
    ['a stale iat', { header: proof({ claims: { iat: Math.floor(Date.now() / 1000) - 120 } }) }, 'dpop_stale'],
    ['no ath with a token', { header: proof(), accessToken: 'a.b.c' }, 'dpop_bad_claims'],
    ['the ath of another token', { header: proof({ accessToken: 'x.y.z' }), accessToken: 'a.b.c' }, 'dpop_wrong_ath']
  ]
  for (const [name, request, reason] of cases) {
    t.equal(reasonOf({ header: undefined, method: 'GET', htu: HTU, ...request }), reason, name)
  }
  // The tolerance either way: 5 s ahead and maxAge + 5 s behind still pass.
  const now = Math.floor(Date.now() / 1000)
  t.ok(check({ header: proof({ claims: { iat: now + 4 } }), method: 'GET', htu: HTU }))
  t.ok(check({ header: proof({ claims: { iat: now - 64 } }), method: 'GET', htu: HTU }))
  t.match(check({ header: proof({ claims: { nonce: 'n-1' } }), method: 'GET', htu: HTU }), { nonce: 'n-1', replayWindow: 70_000 })

  function signHs256 (): string {
    const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.publicJwk })).toString('base64url')
    const claims = Buffer.from(JSON.stringify({ jti: 'j', htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000) })).toString('base64url')
    return `${header}.${claims}.${Buffer.alloc(32).toString('base64url')}`
  }
  function smallRsa (): string {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 })
    return signJws({ alg: 'RS256', privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) },
      { typ: 'dpop+jwt', alg: 'RS256', jwk: pair.publicKey.export({ format: 'jwk' }) }, { jti: 'j', htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000) })
  }
})

t.test('a header seen before is not checked again, but its payload and signature are', async (t) => {
  const key = proofKey()
  const first = makeProof(key, 'GET', HTU)
  t.ok(check({ header: first, method: 'GET', htu: HTU }))
  const [header, , signature] = first.split('.')
  const part = (text: string) => Buffer.from(text).toString('base64url')
  t.equal(reasonOf({ header: `${header}.${part('not json')}.${signature}`, method: 'GET', htu: HTU }), 'dpop_malformed')
  t.equal(reasonOf({ header: `${header}.${part('[1]')}.${signature}`, method: 'GET', htu: HTU }), 'dpop_malformed')
  t.equal(reasonOf({ header: `${header}.${part('null')}.${signature}`, method: 'GET', htu: HTU }), 'dpop_malformed')
  t.equal(reasonOf({ header: `${header}.${part(JSON.stringify({ jti: 'x', htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000) }))}.${signature}`, method: 'GET', htu: HTU }), 'dpop_bad_signature')
  t.equal(reasonOf({ header: makeProof(key, 'POST', HTU), method: 'GET', htu: HTU }), 'dpop_wrong_method', 'a second proof of the key: every claim checked')
  // A header too long to cache (an RSA key with a long kid) is checked each time, and works.
  const rsa = proofKey('RS256')
  const long = makeProof(rsa, 'GET', HTU, { header: { kid: 'k'.repeat(2000) } })
  t.ok(check({ header: long, method: 'GET', htu: HTU }))
  t.ok(check({ header: makeProof(rsa, 'GET', HTU, { header: { kid: 'k'.repeat(2000) } }), method: 'GET', htu: HTU }))
})

t.test('htu is compared after RFC 3986 normalisation, without query and fragment', async (t) => {
  const expected = 'https://api.example.com/a/~b%2F'
  for (const htu of ['HTTPS://API.example.COM:443/a/%7Eb%2f', 'https://api.example.com/a/./c/../~b%2F?q=1#f', 'https://api.example.com/a/~b%2F']) {
    t.equal(normalizeHtu(htu), expected, htu)
  }
  t.equal(normalizeHtu('http://api.example.com'), 'http://api.example.com/')
  t.equal(normalizeHtu('http://api.example.com:80/'), 'http://api.example.com/')
  t.equal(normalizeHtu('http://api.example.com:8080/'), 'http://api.example.com:8080/')
  t.equal(normalizeHtu('ftp://api.example.com/'), undefined)
  t.equal(normalizeHtu('https://a:b@api.example.com/'), undefined)
  t.equal(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 1 }), undefined)
  t.equal(jwkThumbprint({ kty: 'oct', k: 'x' }), undefined)
})

t.test('the memory replay cache: a jti of a key once within its window, bounded', async (t) => {
  const store = memoryReplayStore(2)
  t.equal(store.remember('k1', 'j1', 60_000), true)
  t.equal(store.remember('k1', 'j1', 60_000), false)
  t.equal(store.remember('k2', 'j1', 60_000), true, 'the same jti under another key is another proof')
  const short = memoryReplayStore(10)
  t.equal(short.remember('k', 'j', 1), true)
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(short.remember('k', 'j', 1), true, 'past its window, a jti is forgotten')
})

t.test('the Redis replay cache: one SET NX PX under the prefix, a digest for key', async (t) => {
  const calls: unknown[][] = []
  const answers = ['OK', null]
  const store = redisReplayStore({ set: async (...args) => { calls.push(args); return answers.shift()! } }, 'dpop:')
  t.equal(await store.remember('k', 'j', 70_000), true)
  t.equal(await store.remember('k', 'j', 70_000), false)
  t.match(calls[0], [/^dpop:[A-Za-z0-9_-]{43}$/, '1', 'PX', 70_000, 'NX'])
})
