// The keys of one trusted issuer: which set get-jwks answers from (jwks-cache.ts), and when it
// is read, because get-jwks alone fetches on every unknown kid (an attacker's random kids become
// fetches) and has no schedule. So:
// - a refresh fetches the whole JWK Set, on the schedule its Cache-Control max-age gives and when
//   an unknown kid comes in (at most once per cooldown, one fetch shared by every waiting request);
//   a failed fetch changes nothing, so known keys keep working while the issuer is unreachable,
//   and never after a successful fetch dropped them;
// - a kid found absent is answered from a negative cache for one cooldown, then looked up again
//   (a junk token carrying a key's kid just before that key is published cannot lock it out);
// - until the first set loads, a request makes a fetch (or joins the one in flight) and waits for
//   it: a service started before its issuer answers its first token once the issuer does. Those
//   fetches start at most every 100 ms, and the background retries back off from 100 ms to 1 s.
import { setTimeout as delay } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { Algorithm } from './algorithms.js'
import { checkedEndpoint, type Discovery, type DiscoveryRules } from './discovery.js'
import { jwksUnavailable, tokenInvalid } from './errors.js'
import { createJwksCache } from './jwks-cache.js'
import { describeFailure, type KeyAgent } from './key-agent.js'
import { maxAgeOf } from './max-age.js'
import { usableKeys, type KeySetRules, type UsableKey } from './usable-keys.js'

export interface IssuerKeysOptions extends KeySetRules, DiscoveryRules {
  /** The fixed JWKS URL, or undefined to read it from the issuer's discovery document. */
  jwksUrl: string | undefined
  cooldown: number
  keyCacheTtl: number
  unknownKidCacheMax: number
}

export interface FetchCounters { ok: number, failed: number, timedOut: number }

const FIRST_RETRY = 100
const LONGEST_FIRST_RETRY = 1000
export function createIssuerKeys (issuer: string, options: IssuerKeysOptions, discovery: Discovery, agent: KeyAgent, counters: FetchCounters, log: FastifyBaseLogger) {
  const cache = createJwksCache(options.keyCacheMax, agent)
  const unknownKids = new LRUCache<string, true>({ max: options.unknownKidCacheMax, ttl: options.cooldown })
  let loaded = false
  let failures = 0
  let lastFailure: string | undefined
  let lastRefusals = ''
  let lastAttempt = -Infinity
  let inFlight: Promise<void> | undefined
  let spacedFetch: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const closing = new AbortController()

  // The discovered jwks_uri is kept until a fetch fails: then the document is read again.
  let discovered: string | undefined
  let fetching = ''

  async function locateJwks (): Promise<string> {
    if (options.jwksUrl !== undefined) return options.jwksUrl
    if (discovered !== undefined) return discovered
    fetching = discovery.url
    discovered = checkedEndpoint(issuer, 'jwks_uri', (await discovery.read()).jwks_uri, options)
    return discovered
  }

  async function fetchKeySet (): Promise<number | undefined> {
    const url = await locateJwks()
    fetching = url
    const response = await fetch(url, agent.fetchOptions)
    const { keys, refused } = usableKeys(await response.json(), options, cache.knownFor(url))
    if (refused.join() !== lastRefusals) log.warn({ issuer, refused }, 'JWKS keys refused')
    lastRefusals = refused.join()
    cache.install(url, keys)
    return maxAgeOf(response.headers.get('cache-control'))
  }

  function onFetched (maxAge: number | undefined): number {
    if (lastFailure !== undefined) log.info({ issuer }, 'JWKS fetched again')
    loaded = true
    failures = 0
    lastFailure = undefined
    unknownKids.clear()
    counters.ok++
    const wanted = maxAge === undefined ? options.keyCacheTtl : maxAge * 1000
    return Math.min(Math.max(wanted, options.cooldown), options.keyCacheTtl)
  }

  function onFailed (err: unknown): number {
    const { message, timedOut } = describeFailure(err, fetching)
    discovered = undefined
    if (timedOut) counters.timedOut++
    else counters.failed++
    if (message !== lastFailure && !closing.signal.aborted) {
      log.warn({ issuer, err: message }, loaded ? 'JWKS fetch failed; the last keys stay in use' : 'JWKS fetch failed; no keys yet: tokens get 503 until a fetch succeeds')
    }
    lastFailure = message
    failures++
    return loaded ? options.cooldown : Math.min(FIRST_RETRY * 2 ** (failures - 1), LONGEST_FIRST_RETRY, options.cooldown)
  }

  function schedule (wait: number): void {
    if (closing.signal.aborted) return
    clearTimeout(timer)
    timer = setTimeout(refresh, wait).unref()
  }

  /** Fetches the key set now (or joins the fetch in flight); never rejects. */
  function refresh (): Promise<void> {
    if (inFlight) return inFlight
    lastAttempt = Date.now()
    inFlight = fetchKeySet().then(onFetched, onFailed).then((wait) => {
      inFlight = undefined
      schedule(wait)
    })
    return inFlight
  }

  /** Before the first key set: the fetch in flight, else a new one, at most one per FIRST_RETRY. */
  function firstKeySet (): Promise<void> {
    if (inFlight) return inFlight
    const wait = lastAttempt + FIRST_RETRY - Date.now()
    if (wait <= 0) return refresh()
    spacedFetch ??= delay(wait, undefined, { signal: closing.signal }).catch(() => {}).then(() => {
      spacedFetch = undefined
      return refresh()
    })
    return spacedFetch
  }

  function unavailable (): Error {
    const retryAfter = loaded ? Math.ceil((lastAttempt + options.cooldown - Date.now()) / 1000) : 1
    return jwksUnavailable(Math.max(1, retryAfter))
  }

  /** Waits for the fetch a kid missing from the set may cause; throws unless the kid is now published. */
  async function lookUp (kid: string): Promise<void> {
    if (!loaded) await firstKeySet()
    else if (unknownKids.has(kid)) throw tokenInvalid('unknown_kid', 'no published key has this kid')
    else if (inFlight || Date.now() - lastAttempt >= options.cooldown) await refresh()
    if (cache.current(kid)) return
    if (!loaded || lastFailure !== undefined) throw unavailable()
    unknownKids.set(kid, true)
    throw tokenInvalid('unknown_kid', 'no published key has this kid')
  }

  /** The key published under `kid` for `alg`, resolved through get-jwks; else a 401 verifier error. */
  function keyFor (kid: string, alg: Algorithm): UsableKey {
    if (cache.current(kid)!.algorithm !== alg) throw tokenInvalid('alg_not_allowed', 'the algorithm does not match the key')
    return cache.resolve(kid, alg)
  }

  return {
    /**
     * The key published under `kid` for `alg`: at once for a known kid (no promise on the path
     * every request takes), else once the fetch a miss may cause is done; a 401/503 verifier error otherwise.
     */
    key: (kid: string, alg: Algorithm): UsableKey | Promise<UsableKey> =>
      cache.current(kid) ? keyFor(kid, alg) : lookUp(kid).then(() => keyFor(kid, alg)),
    /** The key now published under `kid`, if any (no fetch): a cached token is dead once it changes. */
    current: cache.current,
    refresh,
    close (): void {
      closing.abort()
      clearTimeout(timer)
    },
    get keysCached (): number { return cache.size },
    get unknownKidsCached (): number { return unknownKids.size },
    get loaded (): boolean { return loaded }
  }
}

export type IssuerKeys = ReturnType<typeof createIssuerKeys>
