// What routes get from the verifier, however they are written: the same code for a refusal a
// route catches itself, guards that read the verified claims whatever formatUser and
// decoratorName do, and nothing a route can change for the next request carrying the same token.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import cookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { errorHandler } from '../../services/shared/error-handler.js'
import { makeKey, randomKid, signToken, sleep, startJwksServer } from './helpers.js'

const key = makeKey()

async function appWith (t: Test, options: Partial<VerifierPluginOptions>, routes: (app: FastifyInstance) => void) {
  const jwks = await startJwksServer(t, [key])
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  await app.register(cookie)
  await app.register(verifier, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, revocations: false, ...options })
  routes(app)
  t.teardown(() => app.close())
  await app.ready()
  return { app, issuer: jwks.url, jwks }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('a route that catches request.jwtVerify() sees the code app.authenticate answers with', async (t) => {
  const { app, issuer, jwks } = await appWith(t, { cooldown: 100, keyCacheTtl: 60_000 }, (app) => {
    app.get('/caught', async (request) => {
      try {
        await request.jwtVerify()
        return { code: 'none' }
      } catch (err) {
        return { code: (err as { code: string }).code, reason: (err as { reason: string }).reason }
      }
    })
    app.get('/callback', (request, reply) => {
      request.jwtVerify((err: Error | null) => { reply.send({ code: (err as { code?: string } | null)?.code ?? 'none' }) })
    })
    app.get('/hook', { onRequest: app.authenticate }, async () => ({ code: 'none' }))
  })
  const honest = signToken(key, issuer)
  const [header, payload, signature] = honest.split('.') as [string, string, string]
  const tokens: Record<string, string> = {
    forged: `${header}.${payload}.${signature.slice(0, -6)}AAAAAA`,
    'not JSON': `${header}.bm90IGpzb24.${signature}`,
    'bad alphabet': `${header}.${payload}.${signature.slice(0, 8)}~${signature.slice(8)}`,
    'unknown kid': signToken({ ...key, kid: randomKid() }, issuer)
  }
  for (const [name, token] of Object.entries(tokens)) {
    const hook = await app.inject({ url: '/hook', headers: bearer(token) })
    t.equal(hook.json().code, 'AUTH_TOKEN_INVALID', `${name}: the hook`)
    t.match((await app.inject({ url: '/caught', headers: bearer(token) })).json(), { code: 'AUTH_TOKEN_INVALID' }, `${name}: caught`)
    t.same((await app.inject({ url: '/callback', headers: bearer(token) })).json(), { code: 'AUTH_TOKEN_INVALID' }, `${name}: the callback form`)
  }
  t.same((await app.inject({ url: '/caught', headers: bearer(honest) })).json(), { code: 'none' })
  const published = makeKey()
  jwks.keys.push(published.jwk)
  await sleep(150) // past the cooldown: a new kid is looked up, and the route waits for that fetch
  t.same((await app.inject({ url: '/caught', headers: bearer(signToken(published, issuer)) })).json(), { code: 'none' }, 'a key published since')
  t.same((await app.inject({ url: '/callback', headers: bearer(honest) })).json(), { code: 'none' })
  t.same((await app.inject({ url: '/caught' })).json(), { code: 'AUTH_TOKEN_MISSING', reason: 'missing' })
})

t.test('guards read the verified claims, whatever formatUser and decoratorName make of request.user', async (t) => {
  const { app, issuer } = await appWith(t, { decoratorName: 'principal', formatUser: (claims) => ({ id: claims.sub }) }, (app) => {
    app.get('/orders', { onRequest: app.authenticate, preHandler: app.requireScope('orders:read') }, async (request) => (request as unknown as { principal: unknown }).principal)
    app.get('/admin', { onRequest: app.authenticate, preHandler: app.requireRole('admin') }, async () => 'ok')
    // A guard alone verifies the request itself.
    app.get('/alone', { preHandler: app.requireScope('orders:read') }, async (request) => (request as unknown as { principal: unknown }).principal)
  })
  const reader = signToken(key, issuer, { scope: 'profile orders:read', roles: ['admin'] })
  const other = signToken(key, issuer)
  t.same((await app.inject({ url: '/orders', headers: bearer(reader) })).json(), { id: 'user-1' })
  t.equal((await app.inject({ url: '/admin', headers: bearer(reader) })).statusCode, 200)
  t.same((await app.inject({ url: '/alone', headers: bearer(reader) })).json(), { id: 'user-1' })
  for (const url of ['/orders', '/admin', '/alone']) {
    const refused = await app.inject({ url, headers: bearer(other) })
    t.equal(refused.statusCode, 403, `${url}: not 500`)
    t.equal(refused.json().code, 'AUTH_INSUFFICIENT_SCOPE')
  }
  const none = await app.inject({ url: '/alone' })
  t.equal(none.statusCode, 401, 'a guard alone, no token')
  t.equal(none.json().code, 'AUTH_TOKEN_MISSING')
  t.throws(() => app.requireScope(), /requireScope needs names/)
  t.throws(() => app.requireRole('an admin'), /requireRole needs names/)
})

t.test('nested claims and formatUser results are frozen all the way down, token cache on', async (t) => {
  const shared = { tags: ['a'] }
  const { app, issuer } = await appWith(t, { tokenCacheMax: 10, decoratorName: 'account', formatUser: (claims) => ({ sub: claims.sub, shared, perms: [...(claims as unknown as { permissions: string[] }).permissions] }) }, (app) => {
    app.get('/escalate', { onRequest: app.authenticate }, async (request) => {
      const claims = await request.jwtVerify() as unknown
      const attempts = [
        () => (request as unknown as { account: { perms: string[] } }).account.perms.push('admin'),
        () => (request as unknown as { account: { shared: { tags: string[] } } }).account.shared.tags.push('admin'),
        () => (claims as { permissions: string[] }).permissions.push('admin'),
        () => { (claims as { act: { sub: string } }).act.sub = 'mine' }
      ]
      const refused = attempts.map((attempt) => { try { attempt(); return false } catch (err) { return (err as Error).name } })
      return { refused, account: (request as unknown as { account: unknown }).account }
    })
  })
  const token = signToken(key, issuer, { permissions: ['read'], act: { sub: 'theirs' } })
  for (const attempt of [1, 2]) {
    t.same((await app.inject({ url: '/escalate', headers: bearer(token) })).json(), {
      refused: ['TypeError', 'TypeError', 'TypeError', 'TypeError'], account: { sub: 'user-1', shared: { tags: ['a'] }, perms: ['read'] }
    }, `attempt ${attempt} (the second from the token cache)`)
  }
})

t.test('a formatUser result that freezing cannot protect is the app\'s bug: a 500 naming where', async (t) => {
  const { app, issuer } = await appWith(t, {
    formatUser: (claims) => ({
      dated: { at: new Date() },
      mapped: { deep: { seen: new Map() } },
      getter: { get broken () { throw new Error('a getter bug') } }
    })[claims.sub]
  }, (app) => {
    app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  })
  for (const sub of ['dated', 'mapped', 'getter']) {
    const response = await app.inject({ url: '/me', headers: bearer(signToken(key, issuer, { sub })) })
    t.equal(response.statusCode, 500, sub)
    t.equal(response.json().code, 'INTERNAL_SERVER_ERROR')
  }
  const cyclic = await appWith(t, { formatUser: (claims) => { const me: Record<string, unknown> = { sub: claims.sub }; me.self = me; return me } }, (app) => {
    app.get('/me', { onRequest: app.authenticate }, async (request) => ({ frozen: Object.isFrozen((request.user as unknown as { self: object }).self) }))
  })
  t.same((await cyclic.app.inject({ url: '/me', headers: bearer(signToken(key, cyclic.issuer)) })).json(), { frozen: true }, 'a cycle ends')
})

t.test('jwtVerify takes no per-call options: the checks are set at registration', async (t) => {
  const { app, issuer } = await appWith(t, {}, (app) => {
    app.get('/opts', async (request) => {
      try {
        await request.jwtVerify({ verify: { algorithms: ['HS256'] } } as never)
        return 'accepted'
      } catch (err) {
        return (err as Error).message
      }
    })
    app.get('/empty', async (request) => { await request.jwtVerify({} as never); return 'ok' })
  })
  t.match((await app.inject({ url: '/opts', headers: bearer(signToken(key, issuer)) })).body, /takes no options/)
  t.equal((await app.inject({ url: '/empty', headers: bearer(signToken(key, issuer)) })).body, 'ok')
})

t.test('with a cookie configured, a request with no token says where one was looked for', async (t) => {
  const { app } = await appWith(t, { cookie: { cookieName: 'access_token', signed: false } }, (app) => {
    app.get('/p', { onRequest: app.authenticate }, async () => 'ok')
  })
  const none = (await app.inject({ url: '/p' })).json()
  t.equal(none.code, 'AUTH_TOKEN_MISSING')
  t.equal(none.message, 'No access token in the Authorization header or the access_token cookie')
})

t.test('Fastify\'s own register options, logSerializers included, are accepted', async (t) => {
  const { app, issuer } = await appWith(t, { logLevel: 'warn', logSerializers: { user: (value: unknown) => String(value) } } as Partial<VerifierPluginOptions>, (app) => {
    app.get('/p', { onRequest: app.authenticate }, async () => 'ok')
  })
  t.equal((await app.inject({ url: '/p', headers: bearer(signToken(key, issuer)) })).statusCode, 200)
})

t.test('registered beside the app\'s own @fastify/jwt or authenticate without a namespace: an error that names the fix', async (t) => {
  const own = Fastify()
  t.teardown(() => own.close())
  await own.register(fastifyJwt, { secret: 'the-app-s-own-secret-for-its-sessions' })
  await t.rejects(async () => { await own.register(verifier, { issuer: 'https://auth.example', audience: 'api' }).ready() }, {
    name: 'TypeError', message: /already has fastify\.jwt .*register the verifier with a namespace, e\.g\. \{ namespace: 'ssot' \}/
  })
  const recipe = Fastify()
  t.teardown(() => recipe.close())
  recipe.decorate('authenticate', async () => {})
  await t.rejects(async () => { await recipe.register(verifier, { issuer: 'https://auth.example', audience: 'api', namespace: 'ssot' }).ready() }, {
    name: 'TypeError', message: /already has fastify\.authenticate/
  })
})
