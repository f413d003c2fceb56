// Verified tokens, keyed by the whole token string (never by a part of it), so a repeated token
// skips decoding, hashing and the RSA check. An entry holds the key entry that verified it: once
// that key leaves the set (or is replaced), the entry no longer counts. Never past `exp`.
import { LRUCache } from 'lru-cache'
import type { AccessTokenClaims } from '../shared/claims.js'

interface Verified {
  claims: AccessTokenClaims
  /** Whether the key that verified the token is still the one published under its kid. */
  stillPublished: () => boolean
  /** Milliseconds since the epoch after which the entry is dead (exp + clock tolerance). */
  deadline: number
}

export function createTokenCache (max: number, ttl: number) {
  const cache = new LRUCache<string, Verified>({ max, ttl })
  return {
    /** The claims of a token verified before, if its key is still published and it has not expired. */
    get (token: string): AccessTokenClaims | undefined {
      const hit = cache.get(token)
      if (!hit) return undefined
      if (Date.now() < hit.deadline && hit.stillPublished()) return hit.claims
      cache.delete(token)
      return undefined
    },
    set (token: string, verified: Verified): void {
      cache.set(token, verified)
    },
    get size (): number { return cache.size }
  }
}

export type TokenCache = ReturnType<typeof createTokenCache>
