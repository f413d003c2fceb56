// The published side of the issuer, on a bare Fastify app: JWKS, discovery and the token header.
import t from 'tap'
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { AUDIENCE, decodeJwt, ISSUER, issuerApp } from './helpers.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi']
const subject = { sub: 'user-1', client_id: 'cli', scope: 'profile', username: 'alice' }

t.test('the JWKS publishes public members only, with cache headers', async (t) => {
  const app = await issuerApp(t, { jwksMaxAge: 120 })
  const response = await app.inject('/.well-known/jwks.json')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'application/jwk-set+json')
  t.equal(response.headers['cache-control'], 'public, max-age=120')
  t.match(response.headers.etag, /^"[A-Za-z0-9_-]+"$/)
  const { keys } = response.json() as { keys: Array<Record<string, string>> }
  const ring = app.issuer.keyRing
  t.same(keys.map((key) => key.kid), [ring.activeKey().kid, ring.keys().find((key) => key.state === 'next')!.kid],
    'the active key first, then the next key')
  for (const key of keys) {
    t.same(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
    t.notOk(PRIVATE_MEMBERS.some((member) => member in key), 'no private member')
    t.match(key, { kty: 'RSA', alg: 'RS256', use: 'sig' })
    t.equal(key.kid, await calculateJwkThumbprint({ kty: 'RSA', n: key.n!, e: key.e! }, 'sha256'), 'kid is the RFC 7638 thumbprint')
  }
})

t.test('If-None-Match with the ETag is a 304; the body is rendered once per ring change', async (t) => {
  const app = await issuerApp(t)
  const rendered = app.issuer.keyRing.jwks()
  const first = await app.inject('/.well-known/jwks.json')
  const again = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': first.headers.etag as string } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal(again.headers.etag, first.headers.etag)
  t.ok(again.headers['cache-control'])
  const stale = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': '"other"' } })
  t.equal(stale.statusCode, 200)
  t.equal(stale.body, first.body)
  t.equal(app.issuer.keyRing.jwks(), rendered, 'requests reuse the document rendered at load time')
})

t.test('discovery issuer equals the token iss; the signed header is {alg, typ: at+jwt, kid}', async (t) => {
  const app = await issuerApp(t, { accessTokenTtl: 300 })
  const { accessToken, expiresIn } = await app.issuer.signAccessToken(subject)
  t.equal(expiresIn, 300)
  const { header, payload } = decodeJwt(accessToken)
  t.same(header, { alg: 'RS256', typ: 'at+jwt', kid: app.issuer.keyRing.activeKey().kid })
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const response = await app.inject(path)
    t.equal(response.statusCode, 200)
    t.equal(response.json().issuer, payload.iss, `${path}: issuer is the token iss, exactly`)
    t.equal(response.json().jwks_uri, `${ISSUER}/.well-known/jwks.json`)
    t.match(response.headers['cache-control'], /max-age=300/)
  }
  const jwks = (await app.inject('/.well-known/jwks.json')).json() as JSONWebKeySet
  const verified = await jwtVerify(accessToken, createLocalJWKSet(jwks), { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' })
  t.match(verified.payload, { ...subject, iss: ISSUER, aud: AUDIENCE, jti: String })
  t.equal(verified.payload.exp! - verified.payload.iat!, 300)
  t.not(decodeJwt((await app.issuer.signAccessToken(subject)).accessToken).payload.jti, payload.jti, 'a fresh jti per token')
})

t.test('signing leaves the event loop free: other work runs while a token is signed', async (t) => {
  const app = await issuerApp(t, { accessTokenTtl: 300 })
  // A signature made on the event loop would finish before any callback queued ahead of it.
  const firsts: string[] = []
  for (let i = 0; i < 5; i++) {
    const order: string[] = []
    setImmediate(() => order.push('other work'))
    await app.issuer.signAccessToken(subject).then(() => order.push('signed'))
    await new Promise((resolve) => setImmediate(resolve))
    firsts.push(order[0]!)
  }
  t.ok(firsts.includes('other work'), `first to finish: ${firsts.join(', ')}`)
})
