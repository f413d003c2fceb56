// The live side of the revocation feed: ONE poll of the revocations table per replica, whatever
// the number of followers, fanned out to every open stream. A poll reads the rows after the last
// id it saw (ids grow in commit order, see store/revocations.ts), every `pollInterval` ms for what
// other replicas and the CLIs commit, and at once after a local commit.
//
// A new follower is registered, waits for a poll in progress to end, reads the newest id and
// sends the snapshot up to it, while the polls after it queue what they find for it. Those polls
// start at a cursor no further than that newest id (the one that may have moved the cursor
// without this follower has ended), so the snapshot and the polls overlap rather than leave a gap,
// and the follower drops what it gets twice.
import type { PassThrough } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { createFollower, PAGE, type Follower } from './revocation-follower.js'
import type { RevocationRepository } from './store/revocations.js'

export interface RevocationFeedOptions {
  /** Milliseconds between two polls of the table. */
  pollInterval: number
  /** Milliseconds between two keep-alive comments on every stream. */
  heartbeatInterval: number
  /** Bytes waiting for a follower that stopped reading before it is dropped (default 4 MiB). */
  maxPendingBytes?: number
  /** Open streams at most, in total and per client address group (see stream-limits.ts); past either, 503. */
  maxStreams?: number
  maxStreamsPerAddress?: number
}

export function createRevocationHub (revocations: RevocationRepository, options: RevocationFeedOptions, log: FastifyBaseLogger) {
  const followers = new Set<Follower>()
  const maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024
  let cursor = 0
  let polling: Promise<void> | undefined
  let pollAgain = false
  let failing = false
  let timers: NodeJS.Timeout[] = []

  async function pollOnce (): Promise<void> {
    // Nobody to tell: only move the cursor (one indexed max(), not the rows).
    if (followers.size === 0) {
      cursor = await revocations.newest()
      return
    }
    for (let page = await revocations.after(cursor, PAGE); page.length > 0; page = await revocations.after(cursor, PAGE)) {
      const now = Date.now() / 1000
      for (const event of page) {
        if (event.exp > now) for (const follower of followers) follower.deliver(event)
      }
      cursor = page.at(-1)!.id
      if (page.length < PAGE) return
    }
  }

  /** Polls now, or once more right after the poll in progress; a failure is logged once, not per poll. */
  function poll (): Promise<void> {
    if (polling) {
      pollAgain = true
      return polling
    }
    polling = (async () => {
      do {
        pollAgain = false
        await pollOnce()
      } while (pollAgain)
      if (failing) log.info('revocation feed: the database answers again')
      failing = false
    })().catch((err: Error) => {
      if (!failing) log.warn({ err: err.message }, 'revocation feed: polling failed; retrying')
      failing = true
    }).finally(() => { polling = undefined })
    return polling
  }

  // A local commit is read at once (poll() never rejects: it logs its failures).
  const unsubscribe = revocations.onCommitted(() => { poll() })

  return {
    /**
     * A stream of SSE text for a follower that has seen events up to `lastEventId`. Resolves once
     * the newest id is known (a database failure rejects, before any byte is sent); the snapshot
     * then follows on the stream.
     */
    async follow (lastEventId: number | undefined): Promise<PassThrough> {
      const follower = createFollower(maxPendingBytes)
      followers.add(follower)
      follower.stream.once('close', () => followers.delete(follower))
      let newest: number
      try {
        await polling
        newest = await revocations.newest()
      } catch (err) {
        follower.stream.destroy()
        throw err
      }
      // An id beyond the newest is from another database (a reset): everything, from the start.
      const honoured = lastEventId !== undefined && lastEventId <= newest
      follower.snapshot(revocations, honoured ? lastEventId : 0, newest, honoured).catch((err: Error) => {
        log.warn({ err: err.message }, 'revocation feed: snapshot failed; the follower will resume')
        follower.stream.destroy()
      })
      return follower.stream
    },

    /** Reads the newest id, then polls and sends keep-alives until close(). */
    async start (): Promise<void> {
      cursor = await revocations.newest()
      timers = [
        setInterval(() => { poll() }, options.pollInterval),
        setInterval(() => { for (const follower of followers) follower.keepAlive() }, options.heartbeatInterval)
      ]
    },

    /** Ends every stream (followers reconnect, to another replica) and stops polling. */
    async close (): Promise<void> {
      unsubscribe()
      for (const timer of timers) clearInterval(timer)
      for (const follower of followers) follower.stream.end()
      followers.clear()
      await polling
    },

    followers: () => followers.size,
    cursor: () => cursor
  }
}

export type RevocationHub = ReturnType<typeof createRevocationHub>
