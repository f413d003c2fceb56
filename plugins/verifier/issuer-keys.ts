// The keys of one trusted issuer: the last JWK Set fetched successfully, a bounded negative cache
// of unknown kids, a cooldown on kid-miss fetches, one shared fetch at a time, and a background
// refresh on the schedule the JWKS Cache-Control gives.
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import { jwksUnavailable, tokenInvalid } from './errors.js'
import { fetchJson, JwksFetchError } from './jwks-fetch.js'
import { parseKeySet, type KeyEntry, type KeySetRules } from './key-set.js'

export interface IssuerKeysOptions extends KeySetRules {
  /** The fixed JWKS URL, or undefined to read it from the issuer's discovery document. */
  jwksUrl: string | undefined
  fetchTimeout: number
  cooldown: number
  keyCacheTtl: number
  unknownKidCacheMax: number
}

export interface FetchCounters { ok: number, failed: number, timedOut: number }

export function createIssuerKeys (issuer: string, options: IssuerKeysOptions, counters: FetchCounters, log: FastifyBaseLogger) {
  let keys: Map<string, KeyEntry> = new Map()
  // Kids absent from the current key set; emptied by every successful fetch.
  const unknownKids = new LRUCache<string, true>({ max: options.unknownKidCacheMax })
  let loaded = false
  let lastError: JwksFetchError | undefined
  let lastAttempt = -Infinity
  let inFlight: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const stop = new AbortController()
  let discoveredJwksUrl: string | undefined

  async function jwksUrl (): Promise<string> {
    if (options.jwksUrl !== undefined) return options.jwksUrl
    if (discoveredJwksUrl !== undefined) return discoveredJwksUrl
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
    const { body } = await fetchJson(url, options.fetchTimeout, stop.signal)
    const { issuer: named, jwks_uri: uri } = (body ?? {}) as { issuer?: unknown, jwks_uri?: unknown }
    if (named !== issuer) throw new JwksFetchError(`${url} names another issuer`, false)
    if (typeof uri !== 'string' || !/^https?:\/\/\S+$/.test(uri)) throw new JwksFetchError(`${url} has no http(s) jwks_uri`, false)
    discoveredJwksUrl = uri
    return uri
  }

  async function fetchKeySet (): Promise<number | undefined> {
    const { body, maxAge } = await fetchJson(await jwksUrl(), options.fetchTimeout, stop.signal)
    keys = parseKeySet(body, keys, options)
    unknownKids.clear()
    loaded = true
    return maxAge
  }

  function onFetched (maxAge: number | undefined): number {
    lastError = undefined
    counters.ok++
    const wanted = maxAge === undefined ? options.keyCacheTtl : maxAge * 1000
    return Math.min(Math.max(wanted, options.cooldown), options.keyCacheTtl)
  }

  function onFailed (err: unknown): number {
    lastError = err as JwksFetchError // fetchJson and parseKeySet throw nothing else
    discoveredJwksUrl = undefined // a failed fetch re-reads the discovery document next time
    if (lastError.timedOut) counters.timedOut++
    else counters.failed++
    if (!stop.signal.aborted) {
      log.warn({ issuer, err: lastError.message },
        loaded ? 'JWKS fetch failed; the last keys stay in use' : 'JWKS fetch failed; no keys yet: tokens get 503 until a fetch succeeds')
    }
    return options.cooldown
  }

  function schedule (delay: number): void {
    clearTimeout(timer)
    if (stop.signal.aborted) return
    timer = setTimeout(refresh, delay).unref()
  }

  /** Fetches the key set now (or joins the fetch in flight); never rejects. */
  function refresh (): Promise<void> {
    if (inFlight) return inFlight
    lastAttempt = Date.now()
    inFlight = fetchKeySet().then(onFetched, onFailed).then((delay) => {
      inFlight = undefined
      schedule(delay)
    })
    return inFlight
  }

  function retryAfterSeconds (): number {
    return Math.max(1, Math.ceil((lastAttempt + options.cooldown - Date.now()) / 1000))
  }

  /** The key published under `kid` (format already checked), or a 401/503 verifier error. */
  async function keyFor (kid: string): Promise<KeyEntry> {
    const known = keys.get(kid)
    if (known) return known
    if (!unknownKids.has(kid)) {
      if (inFlight) await inFlight
      else if (Date.now() - lastAttempt >= options.cooldown) await refresh()
      const fetched = keys.get(kid)
      if (fetched) return fetched
      if (lastError) throw jwksUnavailable(lastError.unreachable ? 'the issuer is unreachable' : 'the issuer\'s JWKS answer is unusable', retryAfterSeconds())
      unknownKids.set(kid, true)
    }
    throw tokenInvalid('unknown_kid', 'no published key has this kid')
  }

  return {
    keyFor,
    /** The entry now published under `kid`, if any (no fetch). */
    current: (kid: string): KeyEntry | undefined => keys.get(kid),
    refresh,
    close (): void {
      stop.abort() // ends a fetch in flight: no socket or timer outlives the app
      clearTimeout(timer)
    },
    get keysCached (): number { return keys.size },
    get unknownKidsCached (): number { return unknownKids.size },
    get loaded (): boolean { return loaded }
  }
}

export type IssuerKeys = ReturnType<typeof createIssuerKeys>
