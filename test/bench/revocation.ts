// The revocation part of npm run bench (issue 13), `--only=revocation`: two auth replicas (the
// production start) on one PostgreSQL schema sharing one key ring, and bare apps with our verifier:
// three following the replicas' feeds (two A's, one of them through a proxy the bench can cut, one
// B's), a pair for throughput with the feed on and off, and one fed 100,000 revocations for memory.
import { join } from 'node:path'
import { startServer, type ServerChild } from './children.js'
import { quantile, runLoad } from './load.js'
import type { Samples } from './report.js'
import { cuttableProxy, freshSchema, login, replicaEnv, REPLICA_ISSUER, revokeRandomSessions, startReplica, type Replica } from './revocation-cluster.js'
import { revocationsHeld, syntheticFeed, waitForStats, type RevocationMemoryReport } from './revocation-memory.js'
import { eventsLost, revocationLatency, type LatencySamples, type LostReport } from './revocation-scenarios.js'
import { bearerRequests } from './scenarios.js'
import type { ServerSpec } from './targets.js'

export const REVOCATION_PART = 'revocation'
const LIVE_FOR_THROUGHPUT = 1000
export const FEED_ON_NAME = 'our verifier, bare app, revocation feed on (1,000 live)'
export const FEED_OFF_NAME = 'our verifier, bare app, revocation feed off'
const LATENCY_NAME = 'revocation to 401, 2 replicas, 3 verifiers'
export const MEMORY_REVOCATIONS = 100_000
const LATENCY_LOGOUTS = 50
const LOST_LOGOUTS = 200
// The synthetic revocations expire this many seconds after they are sent; the verifier sweeps
// every 60 s from its start, so they are gone 60 to 120 s after it started.
const MEMORY_LIFETIME = 20
const SWEPT_BY_MS = 125_000
const USER = { username: 'bench-revocation', password: 'correct horse battery staple' }

export interface RevocationReport {
  latency: LatencySamples
  lost: LostReport
  memory: RevocationMemoryReport
}

interface Options { dir: string, logDir: string, rounds: number, duration: number, warmUp: number, connections: number, samples: Samples }

type VerifierOptions = Extract<ServerSpec, { kind: 'bare-verifier' }>['options']

/** Everything the part starts, closed (and the schema dropped) whatever happens. */
function resources () {
  const closers: Array<() => Promise<unknown>> = []
  return {
    add<T> (value: T, close: (value: T) => Promise<unknown>): T {
      closers.push(() => close(value))
      return value
    },
    async closeAll (): Promise<void> {
      for (const close of closers.reverse()) await close().catch((err: Error) => console.error(`bench: ${err.message}`))
    }
  }
}

export async function measureRevocation ({ dir, logDir, rounds, duration, warmUp, connections, samples }: Options): Promise<RevocationReport> {
  const open = resources()
  try {
    const schema = open.add(await freshSchema(), (schema) => schema.drop())
    const env = await replicaEnv(schema.url, join(dir, 'keys-replicas'), USER)
    // One after the other: the first migrates the schema and creates the user.
    const a = open.add(await startReplica('auth-replica-a', env, logDir), (replica) => replica.close())
    const b = open.add(await startReplica('auth-replica-b', env, logDir), (replica) => replica.close())
    await revokeRandomSessions(schema.url, LIVE_FOR_THROUGHPUT)
    const feed = open.add(await syntheticFeed(), (feed) => feed.close())
    const proxy = open.add(await cuttableProxy(a.url), (proxy) => proxy.close())
    const tokens = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await login(i % 2 ? b : a, USER)).access_token))

    const jwks = (replica: Replica) => `${replica.url}/.well-known/jwks.json`
    const verifier = async (name: string, options: VerifierOptions, exposeGc = false) => open.add(
      await startServer(name, { kind: 'bare-verifier', issuer: REPLICA_ISSUER, options }, { logDir, exposeGc }), (child) => child.close())
    const following = (replica: Replica, feedUrl = `${replica.url}/revocations`) => ({ jwksUrl: jwks(replica), revocations: { feedUrl } })
    const memoryStarted = Date.now()
    const [memoryVerifier, v1, v2, v3, feedOn, feedOff] = await Promise.all([
      verifier('verifier-memory', { jwksUrl: jwks(a), revocations: { feedUrl: feed.url } }, true),
      verifier('verifier-1-follows-a', following(a)),
      verifier('verifier-2-follows-a-by-proxy', following(a, `${proxy.url}/revocations`)),
      verifier('verifier-3-follows-b', following(b)),
      verifier('verifier-feed-on', following(a)),
      verifier('verifier-feed-off', { jwksUrl: jwks(a), revocations: false })
    ])

    process.stdout.write('\nrevocation: memory of 100,000 live revocations')
    const memory = await revocationsHeld(memoryVerifier, feed, tokens, MEMORY_REVOCATIONS, MEMORY_LIFETIME)

    process.stdout.write('\nrevocation: throughput with the feed on and off')
    await waitForStats(feedOn, (stats) => stats.synced === 1 && stats.entries >= LIVE_FOR_THROUGHPUT, 30_000)
    await throughputRounds([[FEED_ON_NAME, feedOn], [FEED_OFF_NAME, feedOff]], tokens, { rounds, duration, warmUp, connections, samples })

    process.stdout.write('\nrevocation: logout to 401 latency')
    const verifiers = [{ ...v1, follows: a }, { ...v2, follows: a }, { ...v3, follows: b }]
    await revocationLatency([a, b], verifiers, USER, 2) // warm-up, not counted
    const latency = await revocationLatency([a, b], verifiers, USER, LATENCY_LOGOUTS)
    samples.add(LATENCY_NAME, { p50: quantileOf(latency.all, 0.5), p99: quantileOf(latency.all, 0.99) })

    process.stdout.write('\nrevocation: events lost across a replica restart and a cut feed connection')
    const lost = await eventsLost([a, b], { replica: b, follower: v3 }, proxy.cut, [v1, v2, v3], USER, LOST_LOGOUTS)

    process.stdout.write('\nrevocation: memory once the 100,000 have expired\n')
    const expired = await memory.expired(memoryStarted + SWEPT_BY_MS)
    return { latency, lost, memory: { ...memory.report, ...(expired && { expired }) } }
  } finally {
    await open.closeAll()
  }
}

/**
 * The same load on each of two servers in interleaved rounds, each round in ABBA order (then BAAB)
 * in half-length runs: a drift of the machine's load over a round weighs on both alike.
 */
async function throughputRounds ([first, second]: Array<[string, ServerChild]>, tokens: string[], options: Omit<Options, 'dir' | 'logDir'>) {
  const load = (server: ServerChild, duration: number) =>
    runLoad({ url: server.url, requests: bearerRequests('/resource/protected', tokens), connections: options.connections, duration })
  for (const [, server] of [first!, second!]) await load(server, options.warmUp)
  for (let round = 0; round < options.rounds; round++) {
    const [x, y] = round % 2 ? [second!, first!] : [first!, second!]
    for (const [name, server] of [x, y, y, x]) {
      options.samples.add(name, await load(server, options.duration / 2))
      process.stdout.write('.')
    }
  }
}

/** The `q` quantile (0..1) of unsorted `values`. */
export const quantileOf = (values: number[], q: number) => quantile(Float64Array.from(values).sort(), q)
