// The verifier used the @fastify/jwt way: request.jwtVerify() answers as fastify.authenticate does,
// tokens from a cookie, formatUser, a namespace beside the app's own @fastify/jwt, fastify.jwt.decode(),
// and a request.user no route can change.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import verifier from '../../plugins/verifier/index.js'
import { errorHandler } from '../../services/shared/error-handler.js'
import { makeKey, randomKid, signToken, startJwksServer } from './helpers.js'

const key = makeKey()

async function build (t: Test, jwks: { url: string, jwksUrl: string }, extra: Record<string, unknown> = {}) {
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(cookie, { secret: 'cookie-signing-secret' })
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, ...extra })
  app.get('/authenticate', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  app.get('/jwt-verify', async (request) => {
    await request.jwtVerify()
    return { sub: request.user.sub }
  })
  app.get('/decode', async (request) => request.jwtDecode())
  t.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('request.jwtVerify() gives the same answers as fastify.authenticate', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = await build(t, jwks)
  const now = Math.floor(Date.now() / 1000)
  const honest = signToken(key, jwks.url)
  const [header, payload, signature] = honest.split('.') as [string, string, string]
  const tokens: Record<string, string | undefined> = {
    honest,
    none: undefined,
    garbage: 'not-a-token',
    'not JSON': `${header}.bm90IGpzb24.${signature}`,
    'payload an array': `${header}.${Buffer.from('[1]').toString('base64url')}.${signature}`,
    unsigned: `${header}.${payload}.`,
    'forged signature': `${header}.${payload}.${signature.slice(0, -6)}AAAAAA`,
    'another payload': `${header}.${signToken(key, jwks.url, { sub: 'admin' }).split('.')[1]}.${signature}`,
    expired: signToken(key, jwks.url, { iat: now - 1000, exp: now - 100 }),
    'wrong audience': signToken(key, jwks.url, { aud: 'other' }),
    'unknown kid': signToken({ ...key, kid: randomKid() }, jwks.url),
    'HS256 header': signToken(key, jwks.url, {}, { alg: 'HS256' })
  }
  for (const [name, token] of Object.entries(tokens)) {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` }
    const viaHook = await app.inject({ url: '/authenticate', headers })
    const viaMethod = await app.inject({ url: '/jwt-verify', headers })
    t.equal(viaMethod.statusCode, viaHook.statusCode, `${name}: status ${viaHook.statusCode}`)
    t.same(viaMethod.json(), viaHook.json(), `${name}: body`)
    t.equal(viaMethod.headers['www-authenticate'], viaHook.headers['www-authenticate'], `${name}: challenge`)
    if (name !== 'honest') t.equal(viaHook.statusCode, 401, `${name} is refused`)
  }
})

t.test('a token from a cookie, plain or signed; the Authorization header wins', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const plain = await build(t, jwks, { cookie: { cookieName: 'access_token', signed: false } })
  const token = signToken(key, jwks.url, { sub: 'from-cookie' })
  for (const url of ['/authenticate', '/jwt-verify']) {
    const response = await plain.inject({ url, cookies: { access_token: token } })
    t.equal(response.statusCode, 200, url)
    t.same(response.json(), { sub: 'from-cookie' })
    const header = await plain.inject({ url, cookies: { access_token: token }, headers: { authorization: `Bearer ${signToken(key, jwks.url)}` } })
    t.same(header.json(), { sub: 'user-1' }, 'the header is read first')
    t.equal((await plain.inject({ url, cookies: { access_token: 'x.y.z' } })).json().code, 'AUTH_TOKEN_INVALID')
    t.equal((await plain.inject({ url })).json().code, 'AUTH_TOKEN_MISSING')
  }
  const signed = await build(t, jwks, { cookie: { cookieName: 'access_token', signed: true } })
  const good = await signed.inject({ url: '/authenticate', cookies: { access_token: signed.signCookie(token) } })
  t.equal(good.statusCode, 200, 'a signed cookie')
  const unsigned = await signed.inject({ url: '/authenticate', cookies: { access_token: token } })
  t.equal(unsigned.statusCode, 401, 'an unsigned value where a signed cookie is expected')
  t.equal(unsigned.json().code, 'AUTH_TOKEN_INVALID')
})

t.test('the cookie option without @fastify/cookie fails at start, naming it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifier, { issuer: 'http://127.0.0.1:9', audience: 'ssot-api', cookie: { cookieName: 'at', signed: false } })
  await t.rejects(async () => { await app.ready() }, { message: /option cookie: register @fastify\/cookie/ })
})

t.test('request.user is frozen: a route cannot change what the next request sees', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, tokenCacheMax: 10 })
  app.get('/escalate', { onRequest: app.authenticate }, async (request) => {
    try {
      (request.user as { scope: string }).scope += ' admin'
    } catch (err) {
      return { refused: (err as Error).name, scope: request.user.scope, frozen: Object.isFrozen(request.user.aud) }
    }
    return { refused: false }
  })
  t.teardown(() => app.close())
  const token = signToken(key, jwks.url, { aud: ['ssot-api'] })
  for (const attempt of [1, 2]) {
    const response = await app.inject({ url: '/escalate', headers: { authorization: `Bearer ${token}` } })
    t.same(response.json(), { refused: 'TypeError', scope: 'profile', frozen: true }, `attempt ${attempt} (the second from the token cache)`)
  }
  t.equal((await app.inject({ url: '/escalate' })).json().code, 'AUTH_TOKEN_MISSING', 'no token, with the token cache on')
})

t.test('app.authenticate awaited in a route\'s own hook answers as the hook does', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl })
  app.get('/awaited', { preHandler: async (request, reply) => { await app.authenticate(request, reply) } }, async (request) => ({ sub: request.user.sub }))
  t.teardown(() => app.close())
  t.same((await app.inject({ url: '/awaited', headers: { authorization: `Bearer ${signToken(key, jwks.url)}` } })).json(), { sub: 'user-1' })
  const refused = await app.inject({ url: '/awaited', headers: { authorization: 'Bearer not.a.jwt' } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'AUTH_TOKEN_INVALID')
  t.match(refused.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('formatUser shapes request.user from the verified claims', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  await app.register(verifier, {
    issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, formatUser: (claims) => ({ id: claims.sub, scopes: claims.scope.split(' ') })
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ user: request.user, frozen: Object.isFrozen(request.user) }))
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${signToken(key, jwks.url)}` } })
  t.same(response.json(), { user: { id: 'user-1', scopes: ['profile'] }, frozen: true })
})

t.test('with a namespace, beside the app\'s own @fastify/jwt: each verifies its own tokens', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(fastifyJwt, { secret: 'the-app-s-own-secret-for-its-sessions' })
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, namespace: 'ssot', jwtVerify: 'ssotVerify' })
  app.get('/own', async (request) => { await request.jwtVerify(); return { own: request.user } })
  app.get('/ssot', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  app.get('/ssot-method', async (request) => {
    await (request as unknown as { ssotVerify: () => Promise<unknown> }).ssotVerify()
    return { sub: request.user.sub }
  })
  t.teardown(() => app.close())
  const ours = signToken(key, jwks.url)
  const theirs = app.jwt.sign({ session: 42 } as never)
  t.match((await app.inject({ url: '/own', headers: { authorization: `Bearer ${theirs}` } })).json(), { own: { session: 42 } })
  t.same((await app.inject({ url: '/ssot', headers: { authorization: `Bearer ${ours}` } })).json(), { sub: 'user-1' })
  t.same((await app.inject({ url: '/ssot-method', headers: { authorization: `Bearer ${ours}` } })).json(), { sub: 'user-1' })
  const crossed = await app.inject({ url: '/ssot', headers: { authorization: `Bearer ${theirs}` } })
  t.equal(crossed.statusCode, 401, 'the app\'s own HS256 token is not ours')
  t.equal(crossed.json().code, 'AUTH_TOKEN_INVALID')
  t.type((app.jwt as unknown as Record<string, { decode: unknown }>).ssot!.decode, 'function')
})

t.test('a namespace alone names the method <namespace>JwtVerify; errors that are not about the token stay what they are', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(verifier, {
    issuer: jwks.url,
    audience: 'ssot-api',
    jwksUrl: jwks.jwksUrl,
    namespace: 'ssot',
    decoratorName: 'principal',
    formatUser: (claims) => { if (claims.sub === 'broken') throw new Error('a bug in formatUser'); return { sub: claims.sub } }
  })
  app.get('/ssot', async (request) => {
    await (request as unknown as { ssotJwtVerify: () => Promise<unknown> }).ssotJwtVerify()
    return (request as unknown as { principal: unknown }).principal
  })
  app.get('/guarded', { onRequest: app.authenticate }, async () => 'ok')
  app.get('/bug', async () => { throw new Error('not about a token') })
  t.teardown(() => app.close())
  t.same((await app.inject({ url: '/ssot', headers: { authorization: `Bearer ${signToken(key, jwks.url)}` } })).json(), { sub: 'user-1' })
  const bug = await app.inject({ url: '/bug' })
  t.equal(bug.statusCode, 500)
  t.notOk(bug.headers['www-authenticate'], 'no challenge on an error that is not about the token')
  const broken = await app.inject({ url: '/guarded', headers: { authorization: `Bearer ${signToken(key, jwks.url, { sub: 'broken' })}` } })
  t.equal(broken.statusCode, 500, 'an app\'s own formatUser bug is a 500, not a refused token')
})

t.test('fastify.jwt.decode() reads a token without verifying it; a verifier cannot sign, and fastify.jwt.verify() says what to use', async (t) => {
  const jwks = await startJwksServer(t, [key])
  const app = await build(t, jwks)
  t.match(app.jwt.decode(signToken(key, jwks.url)), { header: { kid: key.kid, typ: 'at+jwt' }, payload: { sub: 'user-1' } })
  t.match((await app.inject({ url: '/decode', headers: { authorization: `Bearer ${signToken(key, jwks.url)}` } })).json(), { payload: { sub: 'user-1' } }, 'request.jwtDecode()')
  t.throws(() => app.jwt.sign({ sub: 'x' } as never), /unable to sign/)
  t.throws(() => app.jwt.verify(signToken(key, jwks.url)), { message: /fastify\.jwt\.verify\(\) cannot check these tokens; use request\.jwtVerify\(\) or app\.authenticate/ })
})
