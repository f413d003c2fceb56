// The requests each target sends, and the measurements that need more than one load run.
import { randomBytes } from 'node:crypto'
import type autocannon from 'autocannon'
import type { ServerChild } from './children.js'
import { runLoad, type LoadResult } from './load.js'
import { createClientRepository } from '../../services/auth/store/clients.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { DEFAULT_AUDIENCE } from '../../services/shared/config.js'
import { median } from './report.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

export interface HttpRequest { method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string }

export interface BenchClient { clientId: string, clientSecret: string }

/** A machine client written to the auth service's database before the service starts. */
export async function addBenchClient (databaseUrl: string): Promise<BenchClient> {
  const db = createDatabase({ url: databaseUrl })
  try {
    await migrateToLatest(db)
    const clientId = 'bench-client'
    const { clientSecret } = await createClientRepository(db).create({ clientId, name: clientId, scopes: ['profile'], audiences: [DEFAULT_AUDIENCE] })
    return { clientId, clientSecret }
  } finally {
    await db.destroy()
  }
}

/** Token issuance as a machine client gets it: POST /oauth/token, client_credentials, HTTP Basic. */
export function issuanceRequest ({ clientId, clientSecret }: BenchClient): HttpRequest {
  return {
    method: 'POST',
    path: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`
    },
    body: 'grant_type=client_credentials'
  }
}

export const ISSUANCE_NAME = 'token issuance, client_credentials'

export const DOCUMENTED_NAME = 'documented @fastify/jwt + get-jwks'
export const BARE_VERIFIER_NAME = 'our verifier, cache off, bare app'

export const BARE_FASTIFY_NAME = 'bare Fastify, one route, no plugins'
export const HEALTH_NAME = 'our /health'
export const HEALTH_WARN_NAME = 'our /health, LOG_LEVEL=warn'

export const RSA_ONLY_NAME = 'kid lookup + RS256 verify only, same app'

export const BARE_RSA_ONLY_NAME = 'kid lookup + RS256 verify only, bare app'

export const FASTIFY_JWT_ONLY_NAME = '@fastify/jwt alone, key map, bare app'

/** Concurrent clients of the login target, and callers of the hash row measured beside it. */
export const LOGIN_CLIENTS = 20
export const HASH_AT_ONCE_NAME = `argon2id hash, ${LOGIN_CLIENTS} at once`
export const HASH_ONLY_NAME = `argon2id-only route, ${LOGIN_CLIENTS} clients`
export const JWKS_DURING_HASH_ONLY = 'JWKS probe, during argon2id-only load'

async function call (baseUrl: string, request: HttpRequest): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${request.path}`, request)
  const body = await response.json() as Record<string, unknown>
  if (response.status !== 200) throw new Error(`bench: ${request.method} ${request.path} answered ${response.status} ${JSON.stringify(body)}`)
  return body
}

/** `count` distinct access tokens from client_credentials, plus one from a real password login. */
export async function issueTokens (auth: ServerChild, count: number, client: BenchClient, login: { username: string, password: string }): Promise<string[]> {
  const tokens: string[] = []
  for (let i = 0; i < count; i++) tokens.push((await call(auth.url, issuanceRequest(client))).access_token as string)
  const loggedIn = await call(auth.url, loginRequest(login))
  tokens.push(loggedIn.access_token as string)
  return tokens
}

/** One autocannon request per token, so a cache-on verifier sees several distinct tokens. */
export function bearerRequests (path: string, tokens: string[]): autocannon.Request[] {
  return tokens.map((token) => ({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } }))
}

/** Fails the bench before measuring if `path` does not answer 200 with a token (a 401 is fast). */
export async function expectOk (server: Pick<ServerChild, 'name' | 'url'>, path: string, token: string): Promise<void> {
  const body = await call(server.url, { method: 'GET', path, headers: { authorization: `Bearer ${token}` } })
  if (body.message !== 'This is a protected resource') throw new Error(`bench: ${server.name} ${path} answered ${JSON.stringify(body)}`)
}

/** Requests whose token is well formed and from our issuer but names a new random kid each time. */
export function randomKidRequests (path: string, token: string): autocannon.Request[] {
  const [header, payload, signature] = token.split('.')
  const decoded = JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>
  return [{
    method: 'GET',
    path,
    setupRequest: (request) => {
      const kid = randomBytes(32).toString('base64url')
      const forged = `${Buffer.from(JSON.stringify({ ...decoded, kid })).toString('base64url')}.${payload}.${signature}`
      return { ...request, headers: { ...request.headers, authorization: `Bearer ${forged}` } }
    }
  }]
}

export const JWKS_PROBE = { connections: 1, overallRate: 200 }

// The auth service's own event-loop delay while the JWKS probe runs (p50 and p99 columns).
export const LOOP_DELAY_IDLE = 'auth event-loop delay, idle'
export const LOOP_DELAY_LOGIN = 'auth event-loop delay, during login'

/** Logins from one client at a time: the login path's own cost beside one hash, no queueing. */
export function loginAlone (auth: ServerChild, login: { username: string, password: string }, duration: number) {
  const request = loginRequest(login)
  return runLoad({ url: `${auth.url}${request.path}`, ...request, connections: 1, duration })
}

/**
 * Load of `request` (a login, or the argon2id-only route) from LOGIN_CLIENTS clients and, at the
 * same time, a light probe of the JWKS endpoint.
 */
export async function loadWithJwksProbe (auth: ServerChild, request: HttpRequest, duration: number) {
  const [load, jwks] = await Promise.all([
    runLoad({ url: `${auth.url}${request.path}`, ...request, connections: LOGIN_CLIENTS, duration }),
    runLoad({ url: `${auth.url}/.well-known/jwks.json`, ...JWKS_PROBE, duration })
  ])
  // autocannon stops without waiting for answers, and the service still hashes the requests in
  // flight. One more request queues behind them: once it answers, the next target runs on a quiet machine.
  await call(auth.url, request)
  return { load, jwks }
}

export function loginRequest (login: { username: string, password: string }): HttpRequest {
  return { method: 'POST', path: '/auth/login', headers: JSON_HEADERS, body: JSON.stringify(login) }
}

export interface MemoryReport {
  before: { rss: number, heapUsed: number }
  after: { rss: number, heapUsed: number }
  gcExposed: boolean
  flood: LoadResult
}

/** Memory of a fresh resource service, warmed by valid calls, before and after `count` random-kid calls. */
export async function memoryUnderRandomKids (server: ServerChild, tokens: string[], count: number): Promise<MemoryReport> {
  await runLoad({ url: server.url, requests: bearerRequests('/resource/protected', tokens), connections: 10, amount: 5000 })
  const before = await server.memory()
  const flood = await runLoad({ url: server.url, requests: randomKidRequests('/resource/protected', tokens[0]!), connections: 10, amount: count })
  const after = await server.memory()
  return { before, after, gcExposed: before.gcExposed, flood }
}

const SLICE_SECONDS = 1

/**
 * Runs each load in turn, one second at a time, until each has run `duration` seconds, so rows
 * compared with each other share the machine's slow and fast moments: on this shared VM the CPU
 * steal comes in bursts of seconds, and one load measured 5 s after another could differ by a
 * fifth for that alone. Each row's sample: its requests over its own wall time, errors and non-2xx
 * summed, and the median of its slices' p50 and p99.
 */
export async function alternately (loads: Record<string, (duration: number) => Promise<LoadResult>>, duration: number): Promise<Record<string, LoadResult>> {
  const slices: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(loads).map((row) => [row, []]))
  for (let elapsed = 0; elapsed < duration; elapsed += SLICE_SECONDS) {
    for (const [row, load] of Object.entries(loads)) slices[row]!.push(await load(SLICE_SECONDS))
  }
  const sum = (list: LoadResult[], metric: 'requests' | 'errors' | 'non2xx') => list.reduce((total, slice) => total + slice[metric], 0)
  return Object.fromEntries(Object.entries(slices).map(([row, list]) => [row, {
    rps: sum(list, 'requests') / list.reduce((seconds, slice) => seconds + slice.requests / slice.rps, 0),
    p50: median(list.map((slice) => slice.p50)),
    p99: median(list.map((slice) => slice.p99)),
    errors: sum(list, 'errors'),
    non2xx: sum(list, 'non2xx'),
    requests: sum(list, 'requests')
  }]))
}
