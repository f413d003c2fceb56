// Every trusted issuer with what the verifier keeps of it: its keys (issuer-keys.ts) and, unless
// revocations are off, the revocations its feed publishes (revocation-feed.ts). Two HTTP clients
// serve them all: one for JSON (JWKS and discovery, each request under a hard deadline) and one
// for the feed's event stream (no deadline, but a longest silence).
import type { FastifyBaseLogger } from 'fastify'
import { createDiscovery } from './discovery.js'
import { revocationsUnavailable, tokenInvalid } from './errors.js'
import { createIssuerKeys, type FetchCounters, type IssuerKeys } from './issuer-keys.js'
import { createKeyAgent } from './key-agent.js'
import type { VerifierOptions } from './options.js'
import { createRevocationFeed, LONGEST_RETRY, type RevocationFeed } from './revocation-feed.js'
import { createRevocationSet, type RevocableToken, type RevocationSet } from './revocation-set.js'

// A real JWKS is a few KB; a larger answer is a wrong endpoint, and reading it would cost memory.
const JWKS_MAX_BYTES = 256 * 1024
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i
const EVENT_STREAM = /^text\/event-stream\s*(;|$)/i
export const FEED_IDLE_TIMEOUT = 45_000
export const REVOCATIONS_MAX_ENTRIES = 100_000
export const REVOCATIONS_MAX_LIFETIME = 86_400_000

export interface TrustedIssuer {
  keys: IssuerKeys
  revocations?: { set: RevocationSet, feed: RevocationFeed }
}

/** Throws when `issuer` revoked `token`, or its feed has been gone past `failClosedAfter`. */
export function refuseRevoked ({ revocations }: TrustedIssuer, token: RevocableToken): void {
  if (!revocations) return
  if (revocations.feed.failedClosed()) throw revocationsUnavailable(1)
  if (revocations.set.revokes(token)) throw tokenInvalid('revoked', 'the token has been revoked')
}

/** Whether a token verified before still stands as far as revocations go. */
export function stillStands ({ revocations }: TrustedIssuer, token: RevocableToken): boolean {
  return !revocations || (!revocations.feed.failedClosed() && !revocations.set.revokes(token))
}

/** Logs, once per value, an issuer whose own discovery document names it otherwise than the configuration. */
function mismatchReporter (issuer: string, log: FastifyBaseLogger) {
  const reported = new Set<unknown>()
  return (named: unknown) => {
    if (reported.has(named)) return
    reported.add(named)
    log.error({ configured: issuer, discovered: named },
      `the issuer's discovery document names it ${JSON.stringify(named)}, not ${JSON.stringify(issuer)} as configured: ` +
      'tokens carry the iss their issuer names, and each is refused as from an untrusted issuer until the configured value is the same')
  }
}

export function createTrustedIssuers (list: Array<{ issuer: string, jwksUrl?: string }>, options: VerifierOptions, log: FastifyBaseLogger) {
  const counters: FetchCounters = { ok: 0, failed: 0, timedOut: 0 }
  const json = createKeyAgent({ deadline: options.fetchTimeout, timeout: options.fetchTimeout, maxBytes: JWKS_MAX_BYTES, contentType: JSON_TYPE }, 'application/jwk-set+json, application/json')
  const { revocations } = options
  const stream = revocations === false
    ? undefined
    : createKeyAgent({ deadline: undefined, timeout: options.fetchTimeout, idleTimeout: revocations.idleTimeout ?? FEED_IDLE_TIMEOUT, maxBytes: Infinity, contentType: EVENT_STREAM }, 'text/event-stream')

  function trust (issuer: string, jwksUrl: string | undefined): TrustedIssuer {
    const rules = { allowedOrigins: options.discoveryOrigins }
    const discovery = createDiscovery(issuer, json, mismatchReporter(issuer, log))
    const keys = createIssuerKeys(issuer, { ...options, ...rules, jwksUrl }, discovery, json, counters, log)
    // A feed is found through the issuer's URL (or configured): an issuer that is no URL has none.
    if (revocations === false || (revocations.feedUrl === undefined && !/^https?:\/\//.test(issuer))) return { keys }
    const set = createRevocationSet({
      clockTolerance: options.clockTolerance,
      maxEntries: revocations.maxEntries ?? REVOCATIONS_MAX_ENTRIES,
      maxLifetime: revocations.maxLifetime ?? REVOCATIONS_MAX_LIFETIME
    })
    const feed = createRevocationFeed(issuer, {
      ...rules, feedUrl: revocations.feedUrl, failClosedAfter: revocations.failClosedAfter, rediscoverEvery: options.keyCacheTtl, stableAfter: LONGEST_RETRY
    }, set, discovery, { json, stream: stream! }, log)
    return { keys, revocations: { set, feed } }
  }

  const issuers = new Map(list.map(({ issuer, jwksUrl }) => [issuer, trust(issuer, jwksUrl)]))
  const all = [...issuers.values()]
  const feeds = all.flatMap((issuer) => issuer.revocations ? [issuer.revocations] : [])

  return {
    /** The issuer a token's (already checked) `iss` names. */
    get: (iss: string) => issuers.get(iss)!,
    names: new Set(issuers.keys()),
    /** Loads the keys and starts following the feeds; failures are retried in the background. */
    start (): void {
      for (const { keys } of all) keys.refresh()
      for (const { feed } of feeds) feed.start()
    },
    /** Ends fetches and streams in flight: no socket or timer outlives the app. */
    async close (): Promise<void> {
      for (const { keys } of all) keys.close()
      for (const { set, feed } of feeds) { feed.close(); set.close() }
      await Promise.all([json.close(), stream?.close()])
    },
    /** Counters and cache sizes, for metrics and readiness. */
    stats () {
      const status = feeds.map(({ feed }) => feed.status())
      return {
        jwksFetches: { ...counters },
        keysCached: all.reduce((sum, { keys }) => sum + keys.keysCached, 0),
        unknownKidsCached: all.reduce((sum, { keys }) => sum + keys.unknownKidsCached, 0),
        jwksLoaded: all.some(({ keys }) => keys.loaded),
        revocations: {
          /** Feeds followed (or still to be found through discovery), and of those, connected and caught up. */
          feeds: status.filter((one) => one.following).length,
          synced: status.filter((one) => one.synced).length,
          /** Feeds gone past `failClosedAfter`: their issuer's tokens are refused. */
          failedClosed: feeds.filter(({ feed }) => feed.failedClosed()).length,
          /** Live revocations held. */
          entries: feeds.reduce((sum, { set }) => sum + set.size, 0),
          /** The longest time a followed feed has been unreachable (0 when every one is synced). */
          goneSeconds: Math.max(0, ...status.map((one) => one.goneSeconds))
        }
      }
    }
  }
}

export type TrustedIssuers = ReturnType<typeof createTrustedIssuers>
