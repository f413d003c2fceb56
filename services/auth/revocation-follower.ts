// One follower of the revocation feed: its stream of Server-Sent Events (WHATWG HTML), the
// snapshot it starts with, then the live events the hub hands it (revocation-hub.ts).
import { PassThrough } from 'node:stream'
import type { Revocation, RevocationRepository } from './store/revocations.js'

/** Rows per query, for a snapshot and for a poll. */
export const PAGE = 1000

const revokedEvent = (event: Revocation) =>
  `id: ${event.id}\nevent: revoked\ndata: ${JSON.stringify({ hash: event.hash, exp: event.exp })}\n\n`
const syncedEvent = (id: string) => `event: synced\ndata: ${JSON.stringify({ id })}\n\n`
const KEEP_ALIVE = ': keep-alive\n\n'

/** Resolves when `stream` can take more, or has closed. */
function drained (stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { stream.off('drain', done).off('close', done); resolve() }
    stream.on('drain', done).on('close', done)
  })
}

/**
 * A follower that stops reading is dropped once `maxPendingBytes` wait for it beyond what the
 * sockets hold, so a stalled one cannot grow the heap; it resumes with Last-Event-ID.
 */
export function createFollower (maxPendingBytes: number) {
  const stream = new PassThrough()
  // Every event up to this id has been sent, or was covered by the snapshot.
  let sentUpTo = 0
  // Until the snapshot has been sent, what the poll finds is queued.
  let live = false
  const queued: Revocation[] = []

  function write (text: string): void {
    if (!stream.writable) return
    if (stream.writableLength > maxPendingBytes) stream.destroy()
    else stream.write(text)
  }

  /** A committed revocation: sent once, after the snapshot, whichever of the two found it first. */
  function deliver (event: Revocation): void {
    if (event.id <= sentUpTo) return
    if (!live) {
      queued.push(event)
      return
    }
    sentUpTo = event.id
    write(revokedEvent(event))
  }

  return {
    stream,
    deliver,
    keepAlive: () => { if (live) write(KEEP_ALIVE) },

    /**
     * Sends the live revocations after `from` up to `newest` a page at a time, each page once the
     * follower has taken the one before (a slow follower holds one page, not the table), then
     * `synced`, then what the poll queued meanwhile. Stops when the follower has gone.
     */
    async snapshot (revocations: RevocationRepository, from: number, newest: number, honoured: boolean): Promise<void> {
      const pageAfter = (after: number) => revocations.live(after, newest, PAGE)
      let lastSent: number | undefined
      for (let page = await pageAfter(from); page.length > 0 && stream.writable; page = page.length < PAGE ? [] : await pageAfter(lastSent!)) {
        lastSent = page.at(-1)!.id
        if (!stream.write(page.map(revokedEvent).join(''))) await drained(stream)
      }
      if (!stream.writable) return
      sentUpTo = Math.max(from, newest)
      stream.write(syncedEvent(lastSent !== undefined ? String(lastSent) : honoured ? String(from) : ''))
      live = true
      for (const event of queued.splice(0)) deliver(event)
    }
  }
}

export type Follower = ReturnType<typeof createFollower>
