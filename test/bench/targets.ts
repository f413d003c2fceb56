// The apps under test, each built in its own child process (see server.ts): a bare Fastify app
// (the ceiling), our resource service (compiled) with the bench's bound routes added, the setup the
// @fastify/jwt and get-jwks READMEs document, and the auth service. Ours log as in production
// (info, to the child's stdout, which the bench sends to a file).
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createServer } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { Type } from '@sinclair/typebox'
import type verifierFromSource from '../../plugins/verifier/index.js'
import type { VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { ensureUser } from '../../services/auth/accounts.js'
import { createPasswordChecker, hashPassword } from '../../services/auth/passwords.js'
import { buildApp as buildAuthApp } from '../../services/auth/app.js'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import type * as ResourceApp from '../../services/resource/app.js'
import type * as ResourceConfig from '../../services/resource/config.js'
import { DEFAULT_AUDIENCE, loggerOptions } from '../../services/shared/config.js'

/**
 * The ONE place that says how the verifier's verified-token cache is turned on (target 3).
 * Verifier options are checked with additionalProperties: false, so a renamed option fails the
 * bench at start instead of silently measuring the cache-off path twice.
 */
export const VERIFIED_TOKEN_CACHE_ON: Partial<VerifierPluginOptions> = { tokenCacheMax: 10_000 }

export type ServerSpec =
  | { kind: 'bare' }
  | { kind: 'resource', issuer: string, tokenCache: boolean }
  | { kind: 'documented' }
  | { kind: 'bare-verifier', issuer: string, options?: Pick<VerifierPluginOptions, 'jwksUrl' | 'revocations'> }
  | { kind: 'auth', keysDir: string, databaseUrl: string, username: string, password: string }

// The body of GET /resource/protected (services/resource/routes.ts), for the routes the bench adds.
const ProtectedSchema = Type.Object({
  message: Type.String(),
  user: Type.Object({ userId: Type.String(), username: Type.Optional(Type.String()) })
})
const MESSAGE = 'This is a protected resource'
export const CEILING_PATH = '/bench/open'
export const RSA_ONLY_PATH = '/bench/rs256-only'
export const HASH_ONLY_PATH = '/bench/argon2id-only'
const BENCH_USER = { userId: '00000000-0000-4000-8000-000000000000', username: 'bench-user' }

/** The issuer's public keys by kid, read once at start for the bound routes. */
async function publishedKeys (jwksUrl: string): Promise<Map<string, KeyObject>> {
  const { keys } = await (await fetch(jwksUrl)).json() as { keys: Array<JsonWebKey & { kid: string }> }
  return new Map(keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]))
}

/**
 * The least any verifier must do, in the same app: pick the key by the header's kid, then one
 * RS256 verify with a key imported at start. No claim is read or checked: a bound, not a verifier.
 */
async function addRs256OnlyRoute (app: FastifyInstance, jwksUrl: string): Promise<void> {
  const publicKeys = await publishedKeys(jwksUrl)
  app.get(RSA_ONLY_PATH, {
    onRequest: async (request) => {
      const token = request.headers.authorization!.slice('Bearer '.length)
      const [header, payload, signature] = token.split('.')
      const { kid } = JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }
      if (!verify('sha256', Buffer.from(`${header}.${payload}`), publicKeys.get(kid)!, Buffer.from(signature!, 'base64url'))) {
        throw new Error('bench: the RS256-only route got a bad signature')
      }
    },
    schema: { response: { 200: ProtectedSchema } }
  }, async () => ({ message: MESSAGE, user: BENCH_USER }))
}

export const DPOP_BOUND_PATH = '/bench/dpop-bound'

/**
 * The least a DPoP check can add (RFC 9449), in the same app: the RS256-only route's kid lookup
 * and token verify, plus one verify of the proof with the key it embeds (imported once per header,
 * as our verifier does). No claim of either is read: a bound, not a verifier.
 */
async function addDpopBoundRoute (app: FastifyInstance, jwksUrl: string): Promise<void> {
  const publicKeys = await publishedKeys(jwksUrl)
  const proofKeys = new Map<string, KeyObject>()
  const proofKey = (segment: string) => {
    let key = proofKeys.get(segment)
    if (!key) {
      const { jwk } = JSON.parse(Buffer.from(segment, 'base64url').toString()) as { jwk: JsonWebKey }
      proofKeys.set(segment, key = createPublicKey({ key: jwk, format: 'jwk' }))
    }
    return key
  }
  app.get(DPOP_BOUND_PATH, {
    onRequest: async (request) => {
      const token = request.headers.authorization!.slice('DPoP '.length)
      const [header, payload, signature] = token.split('.')
      const { kid } = JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }
      const proof = request.headers.dpop as string
      const [proofHeader, proofPayload, proofSignature] = proof.split('.')
      if (!verify('sha256', Buffer.from(`${header}.${payload}`), publicKeys.get(kid)!, Buffer.from(signature!, 'base64url')) ||
        !verify('sha256', Buffer.from(`${proofHeader}.${proofPayload}`), { key: proofKey(proofHeader!), dsaEncoding: 'ieee-p1363' }, Buffer.from(proofSignature!, 'base64url'))) {
        throw new Error('bench: the DPoP bound route got a bad signature')
      }
    },
    schema: { response: { 200: ProtectedSchema } }
  }, async () => ({ message: MESSAGE, user: BENCH_USER }))
}

export const FASTIFY_JWT_ONLY_PATH = '/bench/fastify-jwt-only'

/**
 * The least a verifier on @fastify/jwt can do, in the same app: its request.jwtVerify() with each
 * key's PEM from a map built at start (no get-jwks, no claim or header check, no error mapping):
 * what fast-jwt and @fastify/jwt themselves cost beyond the bare kid lookup and RS256 verify.
 */
async function addFastifyJwtOnlyRoute (app: FastifyInstance, jwksUrl: string): Promise<void> {
  const pems = new Map([...await publishedKeys(jwksUrl)].map(([kid, key]) => [kid, key.export({ type: 'spki', format: 'pem' }) as string]))
  await app.register(fastifyJwt, {
    namespace: 'floor',
    decode: { complete: true },
    verify: { algorithms: ['RS256'] },
    secret: { public: (request: unknown, token: { header: { kid: string } }) => Promise.resolve(pems.get(token.header.kid)!) }
  } as unknown as import('@fastify/jwt').FastifyJWTOptions)
  app.get(FASTIFY_JWT_ONLY_PATH, {
    onRequest: async (request) => { await (request as unknown as { floorJwtVerify: () => Promise<unknown> }).floorJwtVerify() },
    schema: { response: { 200: ProtectedSchema } }
  }, async () => ({ message: MESSAGE, user: BENCH_USER }))
}

// The resource service's compiled JS (npm run bench builds it first), as the production rows run
// it: the bounds measured in this app then compare with them, not with tsx's transform of it.
const COMPILED_RESOURCE = new URL('../../dist/services/resource/', import.meta.url)

async function ourResource (issuer: string, tokenCache: boolean): Promise<FastifyInstance> {
  const [{ buildApp: buildResourceApp }, { loadResourceEnv, resourceAppOptions }] = await Promise.all([
    import(new URL('app.js', COMPILED_RESOURCE).href) as Promise<typeof ResourceApp>,
    import(new URL('config.js', COMPILED_RESOURCE).href) as Promise<typeof ResourceConfig>
  ])
  const env = loadResourceEnv({ ISSUER_URL: issuer })
  const options = resourceAppOptions(env)
  const app = await buildResourceApp({
    ...options,
    logger: loggerOptions(env.LOG_LEVEL, false),
    verifier: { ...options.verifier, ...(tokenCache && VERIFIED_TOKEN_CACHE_ON) }
  })
  // Target 1: same app, same response schema and a body of the same shape, no auth.
  app.get(CEILING_PATH, { schema: { response: { 200: ProtectedSchema } } }, async () => ({ message: MESSAGE, user: BENCH_USER }))
  await addRs256OnlyRoute(app, `${issuer}/.well-known/jwks.json`)
  await addDpopBoundRoute(app, `${issuer}/.well-known/jwks.json`)
  return app
}

export const BARE_PATH = '/health'

/** The ceiling: Fastify with no plugin and no logger, one route answering what our /health answers. */
function bareFastify (): FastifyInstance {
  const app = Fastify()
  app.get(BARE_PATH, async () => ({ status: 'ok' }))
  return app
}

/** Verbatim the "Verifying with JWKS" example of the @fastify/jwt README (get-jwks defaults). */
async function documentedSetup (): Promise<FastifyInstance> {
  const app = Fastify()
  const getJwks = buildGetJwks()
  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: (request: unknown, token: { header: { kid: string, alg: string }, payload: { iss: string } }) => {
      const { header: { kid, alg }, payload: { iss } } = token
      return getJwks.getPublicKey({ kid, domain: iss, alg })
    }
  } as unknown as import('@fastify/jwt').FastifyJWTOptions)
  app.addHook('onRequest', async (request, reply) => {
    try {
      await request.jwtVerify()
    } catch (err) {
      reply.send(err)
    }
  })
  app.get('/resource/protected', { schema: { response: { 200: ProtectedSchema } } }, async (request) => ({
    message: MESSAGE,
    user: { userId: request.user.sub, username: request.user.username }
  }))
  return app
}

export const REVOCATION_STATS_PATH = '/bench/revocations'

// By package name, at run time: npm run bench builds the package first, and typecheck runs before any build.
const VERIFIER_PACKAGE = '@fastify-ssot/verifier'

/**
 * Our verifier in the documented setup's bare app (no helmet, metrics or load shedding): like for
 * like, so as npm installs it, the package's built JS. Not its source through tsx, whose transform
 * wraps each closure made per request in a naming call (about a tenth of its throughput here).
 */
async function bareVerifier (issuer: string, options: Partial<VerifierPluginOptions> = {}): Promise<FastifyInstance> {
  const { default: verifier } = await import(VERIFIER_PACKAGE) as { default: typeof verifierFromSource }
  const app = Fastify()
  await app.register(verifier, { issuer, audience: DEFAULT_AUDIENCE, ...options })
  // What the revocation part of the bench waits on: the feed's state and the live revocations held.
  app.get(REVOCATION_STATS_PATH, async () => app.verifier.stats().revocations)
  app.get('/resource/protected', { onRequest: app.authenticate, schema: { response: { 200: ProtectedSchema } } }, async (request) => ({
    message: MESSAGE,
    user: { userId: request.user.sub, username: request.user.username }
  }))
  await addRs256OnlyRoute(app, options.jwksUrl ?? `${issuer}/.well-known/jwks.json`) // the bound, in the same bare app
  await addFastifyJwtOnlyRoute(app, options.jwksUrl ?? `${issuer}/.well-known/jwks.json`)
  return app
}

export async function freeLoopbackPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * The least any login can do on the auth service's event loop: one argon2id check of the
 * password through the service's own worker pool, and nothing else (no user lookup, session or
 * token). Under the same load as the login target, the JWKS probe beside it shows what the hash
 * alone does to the event loop.
 */
async function addHashOnlyRoute (app: FastifyInstance, password: string): Promise<void> {
  const [passwordMatches, hash] = await Promise.all([createPasswordChecker(), hashPassword(password)])
  app.get(HASH_ONLY_PATH, async () => {
    if (!await passwordMatches(hash, password)) throw new Error('bench: the argon2id-only route refused the password')
    return { ok: true }
  })
}

/**
 * The auth service as server.ts builds it, with login throttling raised out of the way (the login
 * target measures the hash, not the 429s), plus the argon2id-only route.
 */
async function authService (spec: Extract<ServerSpec, { kind: 'auth' }>, port: number): Promise<FastifyInstance> {
  const env = loadAuthEnv({
    ISSUER_URL: `http://127.0.0.1:${port}`,
    KEYS_DIR: spec.keysDir,
    DATABASE_URL: spec.databaseUrl,
    LOGIN_MAX_PER_IP: '1000000000',
    LOGIN_MAX_PER_USERNAME: '1000000000',
    LOGIN_MAX_PER_DEVICE: '1000000000'
  })
  const app = await buildAuthApp({ ...authAppOptions(env), logger: loggerOptions(env.LOG_LEVEL, false) })
  await addHashOnlyRoute(app, spec.password)
  await app.ready()
  await ensureUser(app.store.users, spec.username, spec.password, [])
  return app
}

/** Builds the app `spec` names and the loopback port it must listen on (0: any). */
export async function buildTarget (spec: ServerSpec): Promise<{ app: FastifyInstance, port: number }> {
  switch (spec.kind) {
    case 'bare': return { app: bareFastify(), port: 0 }
    case 'resource': return { app: await ourResource(spec.issuer, spec.tokenCache), port: 0 }
    case 'documented': return { app: await documentedSetup(), port: 0 }
    case 'bare-verifier': return { app: await bareVerifier(spec.issuer, spec.options), port: 0 }
    case 'auth': {
      // The issuer URL is the token's `iss`, so the port is chosen before the app is built.
      const port = await freeLoopbackPort()
      return { app: await authService(spec, port), port }
    }
  }
}
