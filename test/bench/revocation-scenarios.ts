// What the revocation part measures with the replicas and verifiers up (revocation.ts): how long a
// logout takes to become a 401 at every verifier, and whether any revocation is lost while a
// replica restarts and a verifier's connection is cut.
import { performance } from 'node:perf_hooks'
import type { ServerChild } from './children.js'
import { login, logout, type Replica, type Session } from './revocation-cluster.js'
import { revocationStats, waitForStats } from './revocation-memory.js'

type Verifier = Pick<ServerChild, 'name' | 'url'>
type User = { username: string, password: string }

const POLL_EVERY_MS = 2
const REFUSAL_DEADLINE_MS = 5000
const POLL_PERIOD_MS = 250 // REVOCATION_FEED_POLL_MS, the replicas' default

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The status a verifier's protected route answers to `token`; a 401 must say the token is revoked. */
async function statusAt (verifier: Verifier, token: string): Promise<number> {
  const response = await fetch(`${verifier.url}/resource/protected`, { headers: { authorization: `Bearer ${token}` } })
  const body = await response.text()
  if (response.status === 401 && !body.includes('revoked')) throw new Error(`bench: ${verifier.name} refused a token, not as revoked: ${body}`)
  if (response.status !== 200 && response.status !== 401) throw new Error(`bench: ${verifier.name} answered ${response.status} ${body}`)
  return response.status
}

/** Milliseconds from `since` until the verifier first answers 401 to `token` (polled every 2 ms). */
async function firstRefusal (verifier: Verifier, token: string, since: number): Promise<number> {
  for (;;) {
    if (await statusAt(verifier, token) === 401) return performance.now() - since
    if (performance.now() - since > REFUSAL_DEADLINE_MS) return Number.POSITIVE_INFINITY
    await sleep(POLL_EVERY_MS)
  }
}

export interface LatencySamples {
  /** Every sample, ms: one per verifier per logout. */
  all: number[]
  /** Those of verifiers following the replica that logged out (woken by its own commit)... */
  sameReplica: number[]
  /** ...and of the others (the replica they follow finds it by polling the table). */
  otherReplica: number[]
}

/**
 * `count` times: log in at one replica, check the token at every verifier, log out at the other
 * replica, and time each verifier's first 401 from the logout's answer.
 */
export async function revocationLatency (replicas: [Replica, Replica], verifiers: Array<Verifier & { follows: Replica }>, user: User, count: number): Promise<LatencySamples> {
  const samples: LatencySamples = { all: [], sameReplica: [], otherReplica: [] }
  for (let i = 0; i < count; i++) {
    const [loginAt, logoutAt] = i % 2 ? [replicas[1], replicas[0]] : replicas
    const session = await login(loginAt, user)
    for (const verifier of verifiers) {
      if (await statusAt(verifier, session.access_token) !== 200) throw new Error(`bench: ${verifier.name} refused a fresh token`)
    }
    // At a random moment of the other replica's poll period, not in step with it.
    await sleep(Math.random() * POLL_PERIOD_MS)
    await logout(logoutAt, session)
    const since = performance.now()
    const times = await Promise.all(verifiers.map((verifier) => firstRefusal(verifier, session.access_token, since)))
    times.forEach((ms, v) => {
      samples.all.push(ms)
      ;(verifiers[v]!.follows === logoutAt ? samples.sameReplica : samples.otherReplica).push(ms)
    })
  }
  return samples
}

/** Runs `work` over `items` with `concurrency` at once, starting one every `spacing` ms at most. */
async function paced<T> (items: T[], concurrency: number, spacing: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  let lastStart = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const index = next++
      const wait = lastStart + spacing - performance.now()
      lastStart = performance.now() + Math.max(0, wait)
      if (wait > 0) await sleep(wait)
      await work(items[index]!, index)
    }
  }))
}

export interface LostReport {
  revoked: number
  /** Revoked tokens still accepted, per verifier, once every feed is synced again. */
  lost: Record<string, number>
  /** Logouts sent to the other replica because theirs was down (restarting). */
  redirected: number
  /** Milliseconds the replica restart took (SIGTERM to answering again), and streams the cut ended. */
  restartMs: number
  streamsCut: number
  /** Whether the restarted replica's follower had lost its feed while the replica was down. */
  followerSawRestart: boolean
}

/**
 * `count` sessions logged out across both replicas at about 40 a second; a quarter of the way in
 * `restarted` restarts (its followers reconnect, resuming with Last-Event-ID), and at 60% `cut()`
 * ends another verifier's connection. Then counts the revoked tokens each verifier still accepts.
 */
export async function eventsLost (
  replicas: [Replica, Replica], restarted: { replica: Replica, follower: Verifier }, cut: () => number, verifiers: Verifier[], user: User, count: number
): Promise<LostReport> {
  const sessions: Session[] = []
  await paced(Array.from({ length: count }), 4, 0, async (_, i) => { sessions.push(await login(replicas[i % 2]!, user)) })
  for (const verifier of verifiers) {
    if (await statusAt(verifier, sessions[0]!.access_token) !== 200) throw new Error(`bench: ${verifier.name} refused a fresh token`)
  }
  let redirected = 0
  let restart: Promise<number> | undefined
  let streamsCut = 0
  let followerSawRestart = false
  const whileDown = async () => { followerSawRestart = (await revocationStats(restarted.follower)).synced === 0 }
  await paced(sessions, 4, 25, async (session, i) => {
    if (i === Math.floor(count / 4)) {
      const started = performance.now()
      restart = restarted.replica.restart(whileDown).then(() => performance.now() - started)
    }
    if (i === Math.floor(count * 0.6)) streamsCut = cut()
    const [first, other] = i % 2 ? [replicas[1], replicas[0]] : replicas
    // A load balancer sends to the replica that is up; a logout cut by the restart is sent again.
    if (first.up && await logout(first, session).then(() => true, () => false)) return
    redirected++
    await logout(other, session)
  })
  const restartMs = await restart!
  for (const verifier of verifiers) await waitForStats(verifier, (stats) => stats.synced === stats.feeds, 30_000)
  // A follower synced again still gets the newest events a poll interval later: wait a little for
  // those, then count what is still accepted.
  const lost: Record<string, number> = {}
  const deadline = performance.now() + 5000
  for (const verifier of verifiers) {
    let accepted = sessions
    do {
      const statuses = await Promise.all(accepted.map((session) => statusAt(verifier, session.access_token)))
      accepted = accepted.filter((_, i) => statuses[i] === 200)
      if (accepted.length > 0) await sleep(250)
    } while (accepted.length > 0 && performance.now() < deadline)
    lost[verifier.name] = accepted.length
  }
  return { revoked: count, lost, redirected, restartMs, streamsCut, followerSawRestart }
}
