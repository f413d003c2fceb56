// RFC 8725 attacks against the resource service, whose verifier fetches the real auth service's
// JWKS over HTTP. Every one must be a 401 with an RFC 6750 challenge: never a 500, never a 200.
import { createServer } from 'node:http'
import t from 'tap'
import { activeKeyOf, startAuth, startResource } from '../helper.js'
import { attackerKey, forge, validClaims } from '../forge.js'

t.test('forged tokens against the resource service', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)
  const { kid, privatePem } = await activeKeyOf(auth.keysDir)
  const jwks = await (await fetch(`${auth.url}/.well-known/jwks.json`)).json() as { keys: Array<Record<string, unknown>> }
  const publicJwk = jwks.keys.find((key) => key.kid === kid)!
  const publicPem = (await import('node:crypto')).createPublicKey({ key: publicJwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' }) as string
  const header = { alg: 'RS256', typ: 'at+jwt', kid }
  const claims = validClaims(auth.url)
  const attacker = attackerKey()

  // A trap for anything that would fetch keys from a URL the token names.
  let trapHits = 0
  const trap = createServer((req, res) => { trapHits++; res.end(JSON.stringify({ keys: [attacker.publicJwk] })) })
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
  t.teardown(() => trap.close())
  const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/jwks.json`

  const call = (authorization: string) =>
    fetch(`${resource.url}/resource/protected`, { headers: { authorization } })

  t.test('the forging helper is right: our key, our kid, valid claims → 200', async (t) => {
    const response = await call(`Bearer ${forge(header, claims, { alg: 'RS256', privatePem })}`)
    t.equal(response.status, 200)
  })

  const now = Math.floor(Date.now() / 1000)
  const { exp, aud, iss, sub, iat, ...withoutRequired } = claims
  const rs = { alg: 'RS256' as const, privatePem }
  const cases: Array<[string, string]> = [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, string] =>
      [`alg ${alg}`, forge({ ...header, alg }, claims, { alg: 'none' })]),
    ['alg none with a signature', `${forge({ ...header, alg: 'none' }, claims, { alg: 'none' })}${forge(header, claims, rs).split('.')[2]}`],
    ['HS256 keyed with the public key (PEM)', forge({ ...header, alg: 'HS256' }, claims, { alg: 'HS256', secret: publicPem })],
    ['HS256 keyed with the public key (JWK JSON)', forge({ ...header, alg: 'HS256' }, claims, { alg: 'HS256', secret: JSON.stringify(publicJwk) })],
    ['HS256 keyed with the modulus', forge({ ...header, alg: 'HS256' }, claims, { alg: 'HS256', secret: publicJwk.n as string })],
    ['embedded jwk of the attacker, our kid', forge({ ...header, jwk: attacker.publicJwk }, claims, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['embedded jwk of the attacker, no kid', forge({ alg: 'RS256', typ: 'at+jwt', jwk: attacker.publicJwk }, claims, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['jku to the attacker', forge({ ...header, jku: trapUrl }, claims, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['x5u to the attacker', forge({ ...header, x5u: trapUrl }, claims, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['iss pointing at the attacker', forge(header, { ...claims, iss: trapUrl.replace('/jwks.json', '') }, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['another key under our kid', forge(header, claims, { alg: 'RS256', privatePem: attacker.privatePem })],
    ['kid empty', forge({ ...header, kid: '' }, claims, rs)],
    ['kid huge', forge({ ...header, kid: 'k'.repeat(10_000) }, claims, rs)],
    ['kid path-like', forge({ ...header, kid: '../../../etc/passwd' }, claims, rs)],
    ['kid a URL', forge({ ...header, kid: trapUrl }, claims, rs)],
    ['kid a number', forge({ ...header, kid: 42 }, claims, rs)],
    ['kid missing', forge({ alg: 'RS256', typ: 'at+jwt' }, claims, rs)],
    ['kid unknown, well formed', forge({ ...header, kid: 'A'.repeat(43) }, claims, rs)],
    ['expired', forge(header, { ...claims, exp: now - 3600, iat: now - 4000 }, rs)],
    ['nbf in the future', forge(header, { ...claims, nbf: now + 3600 }, rs)],
    ['iat in the future', forge(header, { ...claims, iat: now + 3600 }, rs)],
    ['exp missing', forge(header, { ...withoutRequired, aud, iss, sub, iat }, rs)],
    ['aud missing', forge(header, { ...withoutRequired, exp, iss, sub, iat }, rs)],
    ['iss missing', forge(header, { ...withoutRequired, exp, aud, sub, iat }, rs)],
    ['sub missing', forge(header, { ...withoutRequired, exp, aud, iss, iat }, rs)],
    ['iat missing', forge(header, { ...withoutRequired, exp, aud, iss, sub }, rs)],
    ['exp a string', forge(header, { ...claims, exp: String(now + 300) }, rs)],
    ['sub a number', forge(header, { ...claims, sub: 7 }, rs)],
    ['scope an array', forge(header, { ...claims, scope: ['profile'] }, rs)],
    ['wrong iss', forge(header, { ...claims, iss: 'http://evil.example' }, rs)],
    ['iss with a trailing slash', forge(header, { ...claims, iss: `${auth.url}/` }, rs)],
    ['wrong aud', forge(header, { ...claims, aud: 'another-api' }, rs)],
    ['typ JWT', forge({ ...header, typ: 'JWT' }, claims, rs)],
    ['typ missing', forge({ alg: 'RS256', kid }, claims, rs)],
    ['crit with an unknown extension', forge({ ...header, crit: ['foo'], foo: 1 }, claims, rs)],
    ['crit naming a registered header', forge({ ...header, crit: ['exp'] }, claims, rs)],
    ['payload is an array', forge(header, [claims], rs)],
    ['payload is not JSON', `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from('{not json').toString('base64url')}.sig`],
    ['header is not JSON', `${Buffer.from('{"alg":').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`],
    ['two segments', forge(header, claims, rs).split('.').slice(0, 2).join('.')],
    ['four segments', `${forge(header, claims, rs)}.extra`],
    ['signature stripped', `${forge(header, claims, rs).split('.').slice(0, 2).join('.')}.`],
    ['characters outside base64url', forge(header, claims, rs).replace(/.$/, '!')],
    ['garbage', 'not-a-token']
  ]

  for (const [name, token] of cases) {
    t.test(name, async (t) => {
      const response = await call(`Bearer ${token}`)
      t.equal(response.status, 401)
      t.match(response.headers.get('www-authenticate'), /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/)
      const body = await response.json() as { code: string }
      t.match(body.code, /^AUTH_TOKEN_(INVALID|EXPIRED)$/)
    })
  }

  t.test('malformed Authorization headers', async (t) => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', `Bearer ${forge(header, claims, rs)} x`, `Bearer\t${forge(header, claims, rs)}\n`]) {
      const response = await call(authorization)
      t.equal(response.status, 401, JSON.stringify(authorization))
      t.match(response.headers.get('www-authenticate'), /^Bearer realm="api"/)
    }
  })

  t.test('RFC 6750 allows one or more spaces after "Bearer", and any casing of the scheme', async (t) => {
    for (const authorization of [`Bearer  ${forge(header, claims, rs)}`, `bearer ${forge(header, claims, rs)}`]) {
      t.equal((await call(authorization)).status, 200, authorization.slice(0, 8))
    }
  })

  t.test('no token at all: 401 with a challenge and no error code (RFC 6750 §3.1)', async (t) => {
    const response = await fetch(`${resource.url}/resource/protected`)
    t.equal(response.status, 401)
    // Both schemes are offered (RFC 9449 §7.1): the resource service takes DPoP-bound tokens too.
    t.match(response.headers.get('www-authenticate'), /^Bearer realm="api", DPoP realm="api", algs="[^"]+"$/)
    t.equal((await response.json() as { code: string }).code, 'AUTH_TOKEN_MISSING')
  })

  t.test('nothing was ever fetched from a URL a token named', async (t) => {
    t.equal(trapHits, 0)
  })
})
