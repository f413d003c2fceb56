// The replay cache of DPoP proofs (RFC 9449 §11.1): each proof's jti, with the key that signed it,
// is remembered for as long as any clock within the tolerance could still accept the proof, and a
// second sight of it is refused. In memory (bounded, least recently used first out) by default, or
// in Redis so that every replica of a service shares it: one atomic SET NX PX, never a read then a
// write, which two replicas could both pass.
import { LRUCache } from 'lru-cache'
import { sha256Base64url } from './dpop-proof.js'

/** What the Redis store needs of a client: ioredis's and node-redis's legacy `set` both fit. */
export interface RedisLike {
  set: (key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX') => Promise<'OK' | null | string>
}

export interface ReplayStore {
  /** True the first time `jti` of the key `jkt` is seen within `ttl` ms, false for a replay; rejects when the store cannot answer. */
  remember: (jkt: string, jti: string, ttl: number) => boolean | Promise<boolean>
}

const entryKey = (jkt: string, jti: string) => sha256Base64url(`${jkt}:${jti}`)

/** At most `max` proofs in this process: size it for the window times the proofs per second. */
export function memoryReplayStore (max: number): ReplayStore {
  const seen = new LRUCache<string, true>({ max })
  return {
    remember (jkt, jti, ttl) {
      const key = entryKey(jkt, jti)
      if (seen.has(key)) return false
      seen.set(key, true, { ttl })
      return true
    }
  }
}

/** Shared by every replica using `redis`; keys are `prefix` + a digest (the jti itself is never stored). */
export function redisReplayStore (redis: RedisLike, prefix: string): ReplayStore {
  return {
    async remember (jkt, jti, ttl) {
      return await redis.set(`${prefix}${entryKey(jkt, jti)}`, '1', 'PX', ttl, 'NX') === 'OK'
    }
  }
}
