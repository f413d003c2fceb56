// The live side of the revocation feed: ONE poll of the revocations table per replica, whatever
// the number of followers, fanned out to every open stream. A poll reads the rows after the last
// id it saw (ids grow in commit order, see store/revocations.ts), every `pollInterval` ms for what
// other replicas and the CLIs commit, and at once after a local commit.
//
// A new follower gets a snapshot first. It is registered before the snapshot is read, and events
// the poll finds meanwhile are queued for it: the snapshot holds every row up to the newest id it
// read, the poll everything after the id it had reached, which is never beyond that newest id; the
// follower's high-water mark drops what both hold. So no event falls between the two.
import { PassThrough } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { Revocation, RevocationRepository } from './store/revocations.js'

export interface RevocationFeedOptions {
  /** Milliseconds between two polls of the table. */
  pollInterval: number
  /** Milliseconds between two keep-alive comments on every stream. */
  heartbeatInterval: number
  /**
   * A follower that stops reading is dropped once this many bytes wait for it (beyond what the
   * sockets hold), so a stalled one cannot grow the heap; it resumes with Last-Event-ID. 4 MiB.
   */
  maxPendingBytes?: number
}

const PAGE = 1000

export const revokedEvent = (event: Revocation) =>
  `id: ${event.id}\nevent: revoked\ndata: ${JSON.stringify({ hash: event.hash, exp: event.exp })}\n\n`
const syncedEvent = (id: string) => `event: synced\ndata: ${JSON.stringify({ id })}\n\n`
const KEEP_ALIVE = ': keep-alive\n\n'

interface Follower {
  stream: PassThrough
  /** Every event up to this id has been sent, or was covered by the snapshot. */
  sentUpTo: number
  /** Set once the snapshot has been sent; until then, what the poll finds is queued. */
  live: boolean
  queued: Revocation[]
}

/** Resolves when `stream` can take more, or has closed. */
function drained (stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { stream.off('drain', done).off('close', done); resolve() }
    stream.on('drain', done).on('close', done)
  })
}

export function createRevocationHub (revocations: RevocationRepository, options: RevocationFeedOptions, log: FastifyBaseLogger) {
  const followers = new Set<Follower>()
  const maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024
  let cursor = 0
  let polling: Promise<void> | undefined
  let pollAgain = false
  let failing = false
  let timers: NodeJS.Timeout[] = []
  let unsubscribe = () => {}

  function write (follower: Follower, text: string): void {
    if (!follower.stream.writable) return
    if (follower.stream.writableLength > maxPendingBytes) follower.stream.destroy()
    else follower.stream.write(text)
  }

  function deliver (follower: Follower, event: Revocation): void {
    if (event.id <= follower.sentUpTo) return
    if (!follower.live) {
      follower.queued.push(event)
      return
    }
    follower.sentUpTo = event.id
    write(follower, revokedEvent(event))
  }

  async function pollOnce (): Promise<void> {
    // Nobody to tell: only move the cursor (one indexed max(), not the rows).
    if (followers.size === 0) {
      cursor = await revocations.newest()
      return
    }
    for (let page = await revocations.after(cursor, PAGE); page.length > 0; page = await revocations.after(cursor, PAGE)) {
      const now = Date.now() / 1000
      for (const event of page) {
        if (event.exp > now) for (const follower of followers) deliver(follower, event)
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

  /**
   * Sends the live revocations after `from` up to `newest` a page at a time, each page once the
   * follower has taken the one before (a stalled follower holds one page, not the table), then
   * `synced`, then what the poll queued meanwhile. Stops when the follower has gone.
   */
  async function snapshot (follower: Follower, from: number, newest: number, honoured: boolean): Promise<void> {
    const { stream } = follower
    const pageAfter = (after: number) => revocations.live(after, newest, PAGE)
    let lastSent: number | undefined
    for (let page = await pageAfter(from); page.length > 0 && stream.writable; page = page.length < PAGE ? [] : await pageAfter(lastSent!)) {
      lastSent = page.at(-1)!.id
      if (!stream.write(page.map(revokedEvent).join(''))) await drained(stream)
    }
    if (!stream.writable) return
    follower.sentUpTo = Math.max(from, newest)
    stream.write(syncedEvent(lastSent !== undefined ? String(lastSent) : honoured ? String(from) : ''))
    follower.live = true
    for (const event of follower.queued.splice(0)) deliver(follower, event)
  }

  return {
    /**
     * A stream of SSE text for a follower that has seen events up to `lastEventId`. Resolves once
     * the newest id is known (a database failure rejects, before any byte is sent); the snapshot
     * then follows on the stream.
     */
    async follow (lastEventId: number | undefined): Promise<PassThrough> {
      const follower: Follower = { stream: new PassThrough(), sentUpTo: 0, live: false, queued: [] }
      followers.add(follower)
      follower.stream.once('close', () => followers.delete(follower))
      let newest: number
      try {
        // A poll that began before this follower existed may move the cursor without telling it:
        // let it end, so that the newest id read next is at least that cursor.
        await polling
        newest = await revocations.newest()
      } catch (err) {
        follower.stream.destroy()
        throw err
      }
      // An id beyond the newest is from another database (a reset): everything, from the start.
      const honoured = lastEventId !== undefined && lastEventId <= newest
      snapshot(follower, honoured ? lastEventId : 0, newest, honoured).catch((err: Error) => {
        log.warn({ err: err.message }, 'revocation feed: snapshot failed; the follower will resume')
        follower.stream.destroy()
      })
      return follower.stream
    },

    /** Reads the newest id, then polls and sends keep-alives until close(). */
    async start (): Promise<void> {
      cursor = await revocations.newest()
      // poll() never rejects: it logs its failures.
      unsubscribe = revocations.onCommitted(() => { poll() })
      timers = [
        setInterval(() => { poll() }, options.pollInterval),
        setInterval(() => { for (const follower of followers) if (follower.live) write(follower, KEEP_ALIVE) }, options.heartbeatInterval)
      ]
    },

    /** Ends every stream (followers reconnect elsewhere) and stops polling. */
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
