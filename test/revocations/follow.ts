// A follower of GET /revocations as a verifier would be: fetch, and a small Server-Sent Events
// parser (WHATWG HTML "Server-sent events": lines, `field: value`, a blank line ends an event,
// `:` starts a comment). Written here so the tests read the bytes the service sends, no more.
import { request, type IncomingMessage } from 'node:http'
import { decodeJwt } from 'jose'
import { revocationHash } from '../../plugins/shared/revocation-hash.js'

export interface FeedEvent {
  id?: string
  event: string
  data: string
}

/** What a `revoked` event carries. */
export interface Revoked { id: number, hash: string, exp: number }

/** Waits at most this long for what a test expects, so a missing event fails clearly instead of hanging. */
const PATIENCE_MS = 10_000

function parseBlock (block: string): FeedEvent | 'comment' {
  const event: FeedEvent = { event: 'message', data: '' }
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) return 'comment'
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') event.id = value
    else if (field === 'event') event.event = value
    else if (field === 'data') data.push(value)
  }
  event.data = data.join('\n')
  return event
}

/** GET /revocations with node:http: its own connection (no pool), destroyed by close(). */
function get (url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, resolve).on('error', reject).end()
  })
}

export async function follow (issuer: string, lastEventId?: string, headers: Record<string, string> = {}) {
  // Not fetch: aborting a fetch makes Node's undici open a fresh connection that never sends a
  // request, which a closing server then waits for.
  const response = await get(`${issuer}/revocations`, { ...headers, ...(lastEventId !== undefined && { 'last-event-id': lastEventId }) })
  response.setEncoding('utf8')
  const chunks = response[Symbol.asyncIterator]() as AsyncIterator<string>
  const events: FeedEvent[] = []
  let comments = 0
  let buffer = ''
  let ended = false
  let taken = 0

  async function readMore (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const patience = new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`nothing more from the feed in ${PATIENCE_MS} ms`)), PATIENCE_MS)
    })
    try {
      const { value, done } = await Promise.race([chunks.next(), patience])
      if (done) ended = true
      else buffer += value
    } finally {
      clearTimeout(timer)
    }
    const blocks = buffer.split('\n\n')
    buffer = blocks.pop()!
    for (const text of blocks) {
      const block = parseBlock(text)
      if (block === 'comment') comments++
      else events.push(block)
    }
  }

  return {
    status: response.statusCode,
    headers: response.headers,
    /** The body of an answer that is not a stream (an error). */
    async json (): Promise<Record<string, unknown>> {
      let text = ''
      for await (const chunk of response) text += chunk as string
      return JSON.parse(text) as Record<string, unknown>
    },
    comments: () => comments,
    /** The next events up to and including the first that `matches` (consumed). */
    async until (matches: (event: FeedEvent) => boolean): Promise<FeedEvent[]> {
      for (let scanned = taken; ; await readMore()) {
        for (; scanned < events.length; scanned++) {
          if (matches(events[scanned]!)) return events.slice(taken, (taken = scanned + 1))
        }
        if (ended) throw new Error('the feed ended')
      }
    },
    /** The next `revoked` events up to the `synced` one, and its id. */
    async snapshot (): Promise<{ revoked: Revoked[], synced: string }> {
      const batch = await this.until((event) => event.event === 'synced')
      return { revoked: batch.slice(0, -1).map(revoked), synced: (JSON.parse(batch.at(-1)!.data) as { id: string }).id }
    },
    /** The next `count` revoked events. */
    async next (count = 1): Promise<Revoked[]> {
      const batch: FeedEvent[] = []
      while (batch.length < count) batch.push(...await this.until(() => true))
      return batch.map(revoked)
    },
    /** Waits for `n` more keep-alive comments. */
    async keepAlives (n: number): Promise<void> {
      const target = comments + n
      while (comments < target && !ended) await readMore()
    },
    /** Resolves when the service ends the stream (or drops it); says how many events it sent. */
    async ended (): Promise<number> {
      try {
        while (!ended) await readMore()
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err
      }
      return events.length
    },
    /** Every event received so far. */
    received: () => events,
    close: () => { response.destroy() }
  }
}

function revoked (event: FeedEvent): Revoked {
  if (event.event !== 'revoked') throw new Error(`expected a revoked event, got ${event.event}`)
  return { id: Number(event.id), ...JSON.parse(event.data) as { hash: string, exp: number } }
}

/** The digest the feed publishes for the session (`sid`) of an access token. */
export const sidHash = (accessToken: string) => revocationHash('sid', decodeJwt(accessToken).sid as string)
/** The digest the feed publishes for one access token (`jti`). */
export const jtiHash = (accessToken: string) => revocationHash('jti', decodeJwt(accessToken).jti!)
