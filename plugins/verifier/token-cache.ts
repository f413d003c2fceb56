// Verified tokens, keyed by the whole token string (never by a part of it), so a repeated token
// skips decoding, the key lookup and the signature check. (fast-jwt's own cache sits after the
// decoding and the key lookup, and cannot be told that a key left the set.) An entry no longer
// counts once `stillValid` says so (its key left the set or was replaced, or the token was
// revoked); never past its deadline (exp plus the clock tolerance).
import { LRUCache } from 'lru-cache'

interface Entry<T> {
  value: T
  /** Milliseconds since the epoch after which the entry is dead. */
  deadline: number
}

export function createTokenCache<T extends object> (max: number, ttl: number, stillValid: (value: T) => boolean) {
  const cache = new LRUCache<string, Entry<T>>({ max, ttl })
  return {
    /** What `token` was verified as, if that still holds. */
    get (token: string): T | undefined {
      const hit = cache.get(token)
      if (!hit) return undefined
      if (Date.now() < hit.deadline && stillValid(hit.value)) return hit.value
      cache.delete(token)
      return undefined
    },
    set (token: string, value: T, deadline: number): void {
      cache.set(token, { value, deadline })
    },
    get size (): number { return cache.size }
  }
}
