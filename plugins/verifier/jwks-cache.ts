// What get-jwks answers from: it resolves each token's key by kid, and this file decides what is in
// its cache, because get-jwks alone fetches on every unknown kid and keeps a removed key in its
// stale cache. Every usable key of the set just read is put in get-jwks' `cache` before its first
// token; a kid that left the set is deleted from both of its caches (from `cache` first: its
// dispose hook moves entries into `staleCache`).
import buildGetJwks, { type GetJwks, type JWK } from 'get-jwks'
import { ALGORITHMS, type Algorithm } from './algorithms.js'
import type { KeyAgent } from './key-agent.js'
import type { UsableKey } from './usable-keys.js'

// get-jwks entries never expire by age: the refresh alone decides what stays. An unchanged key
// keeps its entry across refreshes, so any finite age would, once reached, make get-jwks fetch on
// its own and answer with a promise. lru-cache sets no timer for a TTL without ttlAutopurge, so
// the largest integer is safe.
const NO_EXPIRY = Number.MAX_SAFE_INTEGER

export function createJwksCache (keyCacheMax: number, agent: KeyAgent) {
  let getJwks: GetJwks | undefined
  let jwksUrl: string | undefined
  let domain = ''
  let usable = new Map<string, UsableKey>()
  const byJwk = new WeakMap<object, UsableKey>()

  /** A get-jwks whose only allowed domain, and only path, is the JWKS URL's. */
  function useJwksUrl (url: string): void {
    if (url === jwksUrl) return
    const { origin, pathname, search } = new URL(url)
    domain = `${origin}/`
    getJwks = buildGetJwks({
      max: keyCacheMax * ALGORITHMS.length,
      ttl: NO_EXPIRY,
      issuersWhitelist: [domain],
      jwksPath: `${pathname.slice(1)}${search}`,
      fetchOptions: agent.fetchOptions as NonNullable<Parameters<typeof buildGetJwks>[0]>['fetchOptions']
    })
    jwksUrl = url
    usable = new Map()
  }

  function forget ({ kid, algorithm }: UsableKey): void {
    const cacheKey = getJwks!.generateCacheKey(algorithm, kid, domain)
    getJwks!.cache.delete(cacheKey)
    getJwks!.staleCache.delete(cacheKey)
  }

  return {
    /** The keys now in use when `url` is where they come from (none for another URL): a key found unchanged is kept. */
    knownFor: (url: string): ReadonlyMap<string, UsableKey> => url === jwksUrl ? usable : new Map(),
    /** Makes `keys`, read from `url`, the set get-jwks answers from; an unchanged key keeps its entry. */
    install (url: string, keys: Map<string, UsableKey>): void {
      useJwksUrl(url)
      for (const [kid, key] of usable) if (keys.get(kid) !== key) forget(key)
      for (const [kid, key] of keys) {
        if (usable.get(kid) === key) continue
        byJwk.set(key.jwk, key)
        getJwks!.cache.set(getJwks!.generateCacheKey(key.algorithm, kid, domain), key.jwk as unknown as JWK)
      }
      usable = keys
    },
    /** The key published under `kid` (which must be), resolved through get-jwks; it never fetches here. */
    resolve (kid: string, alg: Algorithm): UsableKey {
      return byJwk.get(getJwks!.getJwk({ domain, alg, kid }) as unknown as object)!
    },
    /** The key now published under `kid`, if any. */
    current: (kid: string): UsableKey | undefined => usable.get(kid),
    get size (): number { return usable.size }
  }
}
