// Verifier test helpers: RSA keys made in the test, a small JWKS server over real HTTP whose
// answers the test controls and whose fetches it counts, a hung server, and a bare Fastify app
// with only the verifier plugin.
import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { createSigner } from 'fast-jwt'
import type { Test } from 'tap'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import type { Algorithm } from '../../plugins/verifier/algorithms.js'
import { errorHandler } from '../../services/shared/error-handler.js'

export interface TestKey {
  kid: string
  jwk: JsonWebKey & { kid: string }
  privatePem: string
}

const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }

export function makeKey (kid = randomBytes(32).toString('base64url'), alg: Algorithm = 'RS256'): TestKey {
  const { publicKey, privateKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: CURVES[alg]! })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }
  return { kid, jwk, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

// The order n of each curve (SEC 2), and the size of r and s in a JWS signature.
const ECDSA: Record<string, { size: number, n: bigint }> = {
  ES256: { size: 32, n: BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551') },
  ES384: { size: 48, n: BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973') },
  ES512: { size: 66, n: 6864797660130609714981900799081393217269435300143305409394463459185543183397655394245057746333217197532963996371363321113864768612440380340372808892707005449n }
}

/** `token` (ES*) with s replaced by n - s: the same signature, spelled the other way; `low` picks the low-S one. */
export function ecdsaTwin (token: string, alg: Algorithm, low?: boolean): string {
  const { size, n } = ECDSA[alg]!
  const cut = token.lastIndexOf('.')
  const signature = Buffer.from(token.slice(cut + 1), 'base64url')
  const s = BigInt(`0x${signature.subarray(size).toString('hex')}`)
  if (low !== undefined && (s <= n / 2n) === low) return token
  const twin = Buffer.from((n - s).toString(16).padStart(2 * size, '0'), 'hex')
  return `${token.slice(0, cut + 1)}${Buffer.concat([signature.subarray(0, size), twin]).toString('base64url')}`
}

/** A signed access token (ES signatures in their low-S form); `claims` and `header` override the honest defaults. */
export function signToken (key: Pick<TestKey, 'kid' | 'privatePem'> & { jwk?: object }, issuer: string, claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const alg = (key.jwk as { alg?: Algorithm } | undefined)?.alg ?? 'RS256'
  const sign = createSigner({ key: key.privatePem, algorithm: alg, kid: key.kid, header: { alg, typ: 'at+jwt', ...header } })
  const token = sign({
    iss: issuer, sub: 'user-1', aud: 'ssot-api', iat: now, exp: now + 600, jti: randomUUID(), client_id: 'c', scope: 'profile', ...claims
  })
  return alg.startsWith('ES') ? ecdsaTwin(token, alg, true) : token
}

/** A random kid of the right shape, that no issuer ever published. */
export function randomKid (): string {
  return randomBytes(32).toString('base64url')
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void

/** A JWKS server on loopback: `keys` is what it publishes, `respond` overrides the answer. */
export async function startJwksServer (t: Test, keys: TestKey[] = []) {
  const state = {
    keys: keys.map((key) => key.jwk) as object[],
    cacheControl: 'public, max-age=300' as string | undefined,
    fetches: 0,
    respond: undefined as Responder | undefined
  }
  const server = createHttpServer((req, res) => {
    state.fetches++
    if (state.respond) return state.respond(req, res)
    const headers: Record<string, string> = { 'content-type': 'application/jwk-set+json' }
    if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl
    res.writeHead(200, headers).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${port}`
  return Object.assign(state, { url, jwksUrl: `${url}/.well-known/jwks.json`, server })
}

export interface FeedEvent { id: number, hash: string, exp: number }

/**
 * An issuer on loopback with a discovery document, a JWKS and a revocation feed (Server-Sent
 * Events, resumable with Last-Event-ID). `publish` revokes, `cut` drops every follower, `down`
 * refuses new ones, `garbageAfterSync` sends a broken event after each `synced`.
 */
export async function startFeedIssuer (t: Test, keys: TestKey[], advertise = true) {
  const events: FeedEvent[] = []
  const followers = new Set<ServerResponse>()
  const state = { down: false, discoveryDown: false, garbageAfterSync: false, connections: 0, lastEventIds: [] as Array<string | undefined> }
  const write = (res: ServerResponse, event: FeedEvent) => res.write(`id: ${event.id}\nevent: revoked\ndata: ${JSON.stringify({ hash: event.hash, exp: event.exp })}\n\n`)
  const server = createHttpServer((req, res) => {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    if (req.url === '/.well-known/openid-configuration') {
      if (state.discoveryDown) return res.writeHead(503).end()
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        issuer: url, jwks_uri: `${url}/jwks`, ...(advertise && { revocation_feed_endpoint: `${url}/revocations` })
      }))
    }
    if (req.url === '/jwks') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map((key) => key.jwk) }))
    if (state.down) return res.writeHead(503).end()
    state.connections++
    const after = req.headers['last-event-id'] as string | undefined
    state.lastEventIds.push(after)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    for (const event of events) if (after === undefined || event.id > Number(after)) write(res, event)
    res.write(`event: synced\ndata: {"id":"${events.at(-1)?.id ?? ''}"}\n\n`)
    if (state.garbageAfterSync) res.write('event: revoked\ndata: {"hash":"not-a-digest"}\n\n')
    followers.add(res)
    res.on('close', () => followers.delete(res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return Object.assign(state, {
    url,
    events,
    followers: () => followers.size,
    /** Revokes `hash` until `exp` (unix seconds), live to every follower. */
    publish (hash: string, exp = Math.floor(Date.now() / 1000) + 600): FeedEvent {
      const event = { id: events.length + 1, hash, exp }
      events.push(event)
      for (const res of followers) write(res, event)
      return event
    },
    cut (): void { for (const res of followers) res.destroy() },
    /** Ends every follower's stream as a server would when it closes. */
    end (): void { for (const res of followers) res.end() },
    /** Writes `text` as it is to every follower. */
    send (text: string): void { for (const res of followers) res.write(text) }
  })
}

/** A server that accepts connections and never answers; `pending()` counts open connections that sent a request. */
export async function startHungServer (t: Test) {
  const sockets = new Set<Socket>()
  const asked = new Set<Socket>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('data', () => asked.add(socket))
    socket.on('close', () => { sockets.delete(socket); asked.delete(socket) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, pending: () => asked.size }
}

const refusals = new WeakMap<object, string[]>()

/** The reason of every refusal by `app`, in order: what a metrics hook would see. */
export function reasonsOf (app: object): string[] {
  return refusals.get(app)!
}

/**
 * A bare Fastify app with only the verifier and one protected route, GET /p. Revocations are off
 * unless asked for: these servers publish no feed, and a discovery request would count as a fetch.
 */
export async function buildVerifierApp (t: Test, options: VerifierPluginOptions, logger: FastifyServerOptions['logger'] = false) {
  const app = Fastify({ logger })
  app.setErrorHandler(errorHandler)
  await app.register(verifier, { revocations: false, ...options })
  app.get('/p', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  const reasons: string[] = []
  refusals.set(app, reasons)
  app.addHook('onError', async (request, reply, error) => { reasons.push((error as { reason?: string }).reason ?? '?') })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** GET /p with `token` as the bearer token. */
export function callWith (app: Awaited<ReturnType<typeof buildVerifierApp>>, token: string) {
  return app.inject({ method: 'GET', url: '/p', headers: { authorization: `Bearer ${token}` } })
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
