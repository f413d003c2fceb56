// Memory of a verifier holding many live revocations. Its feed is served by the bench itself, in
// the protocol of GET /revocations (README, "The feed"), so 100,000 events reach this one verifier
// in seconds and no other follower; they expire shortly after, and the verifier's
// sweep (every 60 s) must give the memory back: the set is bounded by the live revocations.
import { randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { ServerChild } from './children.js'
import { runLoad } from './load.js'
import { bearerRequests } from './scenarios.js'
import { REVOCATION_STATS_PATH } from './targets.js'

export interface RevocationStats { feeds: number, synced: number, entries: number, goneSeconds: number }

export interface Footprint { rss: number, heapUsed: number, entries: number }

export interface RevocationMemoryReport {
  count: number
  /** Synced with an empty feed, after warm-up requests. */
  before: Footprint
  /** Holding `count` live revocations. */
  held: Footprint
  /** After they expired and the verifier swept them (entries 0), or the deadline passed. */
  expired?: Footprint
  gcExposed: boolean
}

export async function revocationStats (verifier: Pick<ServerChild, 'url'>): Promise<RevocationStats> {
  return await (await fetch(`${verifier.url}${REVOCATION_STATS_PATH}`)).json() as RevocationStats
}

/** Polls the verifier's stats until `done` holds; throws after `timeout` ms. */
export async function waitForStats (verifier: Pick<ServerChild, 'name' | 'url'>, done: (stats: RevocationStats) => boolean, timeout: number): Promise<RevocationStats> {
  const deadline = Date.now() + timeout
  for (;;) {
    const stats = await revocationStats(verifier)
    if (done(stats)) return stats
    if (Date.now() > deadline) throw new Error(`bench: ${verifier.name} revocations ${JSON.stringify(stats)} after ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A feed served from this process: every follower gets what was pushed, then `synced`, then what is pushed next. */
export async function syntheticFeed () {
  const events: string[] = []
  const open = new Set<ServerResponse>()
  const server = createServer((request, response) => {
    const after = Number(request.headers['last-event-id'] ?? 0)
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    response.write(events.slice(after).join('') + 'event: synced\ndata: {}\n\n')
    open.add(response)
    response.on('close', () => open.delete(response))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const keepAlive = setInterval(() => { for (const response of open) response.write(': keep-alive\n\n') }, 10_000)
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/revocations`,
    /** `count` revocations of random digests, dead at `exp` (unix seconds), sent a page at a time. */
    async push (count: number, exp: number): Promise<void> {
      for (let sent = 0; sent < count; sent += 1000) {
        const page: string[] = []
        for (let i = 0; i < Math.min(1000, count - sent); i++) {
          // Each event's id is its position: a follower resuming with Last-Event-ID gets the rest.
          page.push(`id: ${events.length + 1}\nevent: revoked\ndata: ${JSON.stringify({ hash: randomBytes(32).toString('base64url'), exp })}\n\n`)
          events.push(page.at(-1)!)
        }
        const chunk = page.join('')
        await Promise.all([...open].map((response) => response.write(chunk) ? undefined : once(response, 'drain')))
      }
    },
    close (): Promise<void> {
      clearInterval(keepAlive)
      for (const response of open) response.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}

async function footprint (verifier: ServerChild): Promise<Footprint> {
  const { rss, heapUsed } = await verifier.memory()
  return { rss, heapUsed, entries: (await revocationStats(verifier)).entries }
}

/**
 * Memory of `verifier` (started with --expose-gc, following `feed`) synced and warmed, then
 * holding `count` live revocations that expire `lifetime` seconds later. Returns the first two
 * footprints and `expired()`, which waits for the sweep (at most until `deadline`).
 */
export async function revocationsHeld (verifier: ServerChild, feed: Awaited<ReturnType<typeof syntheticFeed>>, tokens: string[], count: number, lifetime: number) {
  await waitForStats(verifier, (stats) => stats.synced === 1, 10_000)
  await runLoad({ url: verifier.url, requests: bearerRequests('/resource/protected', tokens), connections: 10, amount: 5000 })
  const before = await footprint(verifier)
  await feed.push(count, Math.floor(Date.now() / 1000) + lifetime)
  await waitForStats(verifier, (stats) => stats.entries >= count, 60_000)
  await runLoad({ url: verifier.url, requests: bearerRequests('/resource/protected', tokens), connections: 10, amount: 5000 })
  const held = await footprint(verifier)
  return {
    report: { count, before, held, gcExposed: (await verifier.memory()).gcExposed } satisfies RevocationMemoryReport,
    async expired (deadline: number): Promise<Footprint | undefined> {
      const swept = await waitForStats(verifier, (stats) => stats.entries === 0, Math.max(0, deadline - Date.now())).catch(() => undefined)
      return swept ? await footprint(verifier) : undefined
    }
  }
}
