// Expiring counters for login throttling: in Redis, shared by every replica, or in this process.
// @fastify/rate-limit counts every request as it arrives and cannot read a count without adding
// to it; throttling on failures needs both, so these few operations are written here.
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'

export interface Count {
  count: number
  /** Milliseconds until the counter expires. */
  ttl: number
}

export interface Counters {
  /** Adds one to each key (a new key lives `windowMs`) and returns the counts after. */
  add (keys: string[], windowMs: number): Promise<Count[]>
  /** Takes one back from each key (never below zero). */
  remove (keys: string[]): Promise<void>
  /** Makes each existing key live at least `ms` from now. */
  extend (keys: string[], ms: number): Promise<void>
  /** Forgets `key`. */
  delete (key: string): Promise<void>
}

interface Entry { count: number, expiresAt: number }

/** Counters in this process, at most `max` keys (the least recently used go first). */
export function localCounters (max = 50_000): Counters {
  const entries = new LRUCache<string, Entry>({ max })
  const live = (key: string, now: number) => {
    const entry = entries.get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }
  return {
    async add (keys, windowMs) {
      const now = Date.now()
      return keys.map((key) => {
        const entry = live(key, now) ?? { count: 0, expiresAt: now + windowMs }
        entry.count++
        entries.set(key, entry)
        return { count: entry.count, ttl: entry.expiresAt - now }
      })
    },
    async remove (keys) {
      for (const key of keys) {
        const entry = live(key, Date.now())
        if (entry && entry.count > 0) entry.count--
      }
    },
    async extend (keys, ms) {
      const now = Date.now()
      for (const key of keys) {
        const entry = live(key, now)
        if (entry) entry.expiresAt = Math.max(entry.expiresAt, now + ms)
      }
    },
    async delete (key) { entries.delete(key) }
  }
}

// One key per script (no multi-key script), so keys may live on different Redis Cluster slots;
// a pipeline still sends them in one round trip.
const SCRIPTS = {
  counterAdd: "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end " +
    "return {c, redis.call('PTTL', KEYS[1])}",
  counterRemove: "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end return 0",
  counterExtend: "local t = redis.call('PTTL', KEYS[1]) if t >= 0 and t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return 0"
}
type Scripted = Redis & { [name in keyof typeof SCRIPTS]: (key: string, ...args: Array<string | number>) => unknown }

/** Runs `script` once per key in one pipeline; rejects on any error. */
async function each (redis: Scripted, script: keyof typeof SCRIPTS, keys: string[], ...args: number[]): Promise<unknown[]> {
  const pipeline = redis.pipeline() as unknown as Scripted & { exec: Redis['exec'] }
  for (const key of keys) pipeline[script](key, ...args)
  // exec() answers null only for an aborted MULTI; a pipeline always has its results.
  const results = await pipeline.exec() as Array<[Error | null, unknown]>
  const failed = results.find(([err]) => err)
  if (failed) throw failed[0]
  return results.map(([, value]) => value)
}

/** Counters in Redis under `prefix`, for every replica at once. */
export function redisCounters (redis: Redis, prefix: string): Counters {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  const scripted = redis as Scripted
  const full = (keys: string[]) => keys.map((key) => prefix + key)
  return {
    async add (keys, windowMs) {
      const results = await each(scripted, 'counterAdd', full(keys), windowMs) as Array<[number, number]>
      return results.map(([count, ttl]) => ({ count, ttl }))
    },
    async remove (keys) { await each(scripted, 'counterRemove', full(keys)) },
    async extend (keys, ms) { await each(scripted, 'counterExtend', full(keys), ms) },
    async delete (key) { await redis.del(prefix + key) }
  }
}

/** `shared`, and `local` for any operation `shared` fails (after calling `warn`). */
export function failSafeCounters (shared: Counters, local: Counters, warn: (err: Error) => void): Counters {
  const fallBack = <A extends unknown[], R> (operation: (counters: Counters, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await operation(shared, ...args)
      } catch (err) {
        warn(err as Error)
        return operation(local, ...args)
      }
    }
  return {
    add: fallBack((counters, keys: string[], windowMs: number) => counters.add(keys, windowMs)),
    remove: fallBack((counters, keys: string[]) => counters.remove(keys)),
    extend: fallBack((counters, keys: string[], ms: number) => counters.extend(keys, ms)),
    delete: fallBack((counters, key: string) => counters.delete(key))
  }
}
