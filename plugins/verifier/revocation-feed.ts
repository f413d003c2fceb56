// Follows an issuer's revocation feed: Server-Sent Events (WHATWG HTML §9.2) of `revoked` events
// `{ hash, exp }` with increasing ids, a `synced` event once everything up to now was sent, and
// keep-alive comments. Connecting without an id replays every live revocation (the snapshot); a
// reconnect sends `Last-Event-ID` and gets only what it missed. While the feed is unreachable the
// set keeps what it has and the follower reconnects with backoff (250 ms, doubling up to 10 s,
// back to 250 ms only once a stream has stayed up 10 s); `failClosedAfter` makes the verifier
// refuse tokens once revocations may have been missed that long: since the last data received.
import type { FastifyBaseLogger } from 'fastify'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { checkedEndpoint, type Discovery, type DiscoveryRules } from './discovery.js'
import { describeFailure, type KeyAgent } from './key-agent.js'
import type { RevocationSet } from './revocation-set.js'

export interface FeedOptions extends DiscoveryRules {
  /** The feed's URL; undefined: the `revocation_feed_endpoint` of the issuer's discovery document. */
  feedUrl: string | undefined
  /** Milliseconds without the feed after which tokens are refused; undefined: never. */
  failClosedAfter: number | undefined
  /** How often a discovery document without a feed is read again, in ms. */
  rediscoverEvery: number
  /** How long a stream must stay up after `synced` for the backoff to start again from its first step, in ms. */
  stableAfter: number
}

const FIRST_RETRY = 250
export const LONGEST_RETRY = 10_000
const HASH = /^[A-Za-z0-9_-]{43}$/
// Far more than one event; a stream that buffers more without a blank line is broken.
const MAX_EVENT_CHARS = 64 * 1024

/** The feed sent more live revocations than `revocations.maxEntries`. */
class FeedOverflowError extends Error {}

export function createRevocationFeed (issuer: string, options: FeedOptions, set: RevocationSet, discovery: Discovery, agents: { json: KeyAgent, stream: KeyAgent }, log: FastifyBaseLogger) {
  let url = options.feedUrl
  let lastEventId: string | undefined
  // Until the discovery document says the issuer has no feed, one is assumed: fail-closed holds meanwhile.
  let following = true
  let synced = false
  let syncedAt = 0
  let lastData = Date.now()
  let gone: number | undefined = Date.now() // since when the set may be missing revocations
  let failures = 0
  let lastFailure: string | undefined
  let timer: NodeJS.Timeout | undefined
  const stop = new AbortController()

  function onEvent ({ event, id, data }: EventSourceMessage): void {
    if (event === 'synced') {
      if (!synced) log.info({ issuer, revocations: set.size }, 'revocation feed followed')
      synced = true
      syncedAt = Date.now()
      gone = undefined
      return
    }
    if (event !== 'revoked') return
    const revoked = JSON.parse(data) as { hash?: unknown, exp?: unknown }
    if (typeof revoked.hash !== 'string' || !HASH.test(revoked.hash) || typeof revoked.exp !== 'number') throw new Error(`a revoked event without a hash and an exp: ${data.slice(0, 200)}`)
    if (!set.add(revoked.hash, revoked.exp)) throw new FeedOverflowError(`the feed holds more live revocations than revocations.maxEntries (${set.size})`)
    if (id !== undefined) lastEventId = id
  }

  async function locate (): Promise<string | undefined> {
    if (url !== undefined) return url
    const advertised = (await discovery.read()).revocation_feed_endpoint
    following = advertised !== undefined
    if (advertised === undefined) return undefined
    url = checkedEndpoint(issuer, 'revocation_feed_endpoint', advertised, options)
    return url
  }

  async function readStream (feed: string): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastEventId !== undefined && { 'last-event-id': lastEventId }) }
    const response = await fetch(feed, { ...agents.stream.fetchOptions, headers, signal: stop.signal })
    let failure: unknown
    const parser = createParser({ onEvent: (event) => { try { onEvent(event) } catch (err) { failure ??= err } }, maxBufferSize: MAX_EVENT_CHARS })
    const decoder = new TextDecoder()
    for await (const chunk of response.body!) {
      lastData = Date.now()
      parser.feed(decoder.decode(chunk, { stream: true }))
      if (failure) throw failure
    }
    throw new Error(`${feed} ended the stream`)
  }

  function lost (err: unknown, target: string): void {
    const { message } = describeFailure(err, target)
    if (synced && Date.now() - syncedAt >= options.stableAfter) {
      failures = 0
      lastFailure = undefined
    }
    if (message !== lastFailure) {
      const level = err instanceof FeedOverflowError ? 'error' : 'warn'
      log[level]({ issuer, err: message }, `revocation feed lost; ${set.size} revocations kept, reconnecting`)
    }
    lastFailure = message
    if (synced) gone = lastData
    synced = false
    schedule(Math.min(FIRST_RETRY * 2 ** failures++, LONGEST_RETRY))
  }

  /** Finds the feed and reads it until it fails; then reconnects (or looks for it again later). */
  function connect (): void {
    let target = url ?? discovery.url
    locate().then((feed) => {
      if (feed === undefined) return schedule(options.rediscoverEvery)
      target = feed
      return readStream(feed)
    }).catch((err: unknown) => { if (!stop.signal.aborted) lost(err, target) })
  }

  function schedule (delay: number): void {
    if (!stop.signal.aborted) timer = setTimeout(connect, delay).unref()
  }

  return {
    start: connect,
    /** Whether revocations may have been missed for longer than `failClosedAfter` (tokens must then be refused). */
    failedClosed (): boolean {
      return following && options.failClosedAfter !== undefined && gone !== undefined && Date.now() - gone > options.failClosedAfter
    },
    close (): void {
      stop.abort()
      clearTimeout(timer)
    },
    status () {
      return { following, synced, lastEventId, goneSeconds: gone === undefined || !following ? 0 : (Date.now() - gone) / 1000 }
    }
  }
}

export type RevocationFeed = ReturnType<typeof createRevocationFeed>
