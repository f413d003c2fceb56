// Verified tokens, keyed by the whole token string (never by a part of it), so a repeated token
// skips decoding, the key lookup and the RSA check: `authenticate` asks it before @fastify/jwt.
// (fast-jwt's own cache sits after the decoding and the key lookup, and cannot be told that a key
// left the set.) An entry no longer counts once the key that verified it leaves the set or is
// replaced, or the token is revoked; never past `exp`.
import { LRUCache } from 'lru-cache'

interface Verified {
  /** What `request.user` was set to (frozen). */
  user: unknown
  /** Whether the key that verified the token is still published under its kid, and the token not revoked. */
  stillValid: () => boolean
  /** Milliseconds since the epoch after which the entry is dead (exp + clock tolerance). */
  deadline: number
}

export function createTokenCache (max: number, ttl: number) {
  const cache = new LRUCache<string, Verified>({ max, ttl })
  return {
    /** The user of a token verified before, if its key is still published and it has not expired. */
    get (token: string): unknown {
      const hit = cache.get(token)
      if (!hit) return undefined
      if (Date.now() < hit.deadline && hit.stillValid()) return hit.user
      cache.delete(token)
      return undefined
    },
    set (token: string, verified: Verified): void {
      cache.set(token, verified)
    },
    get size (): number { return cache.size }
  }
}
