// Throttling counters in Redis, shared by every replica. Each key expires on its own (PEXPIRE), so
// Redis holds only live counts; nothing evicts them unless Redis runs out of memory (README
// "Login throttling": give it room, or `maxmemory-policy noeviction`).
import type { Redis } from 'ioredis'
import type { Count, Counters } from './counters.js'

// One key per script (no multi-key script), so keys may live on different Redis Cluster slots;
// a pipeline still sends them in one round trip. A value that is not a number fails the script
// (tonumber gives nil), and the caller falls back to this process.
const SCRIPTS = {
  counterPeek: "return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}",
  counterAdd: "local c = tonumber(redis.call('GET', KEYS[1]) or '0') " +
    "if c >= tonumber(ARGV[2]) then return {c, redis.call('PTTL', KEYS[1]), 0} end " +
    "c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end " +
    "return {c, redis.call('PTTL', KEYS[1]), 1}",
  counterRemove: "local c = tonumber(redis.call('GET', KEYS[1]) or '0') " +
    "if c > 1 then redis.call('DECR', KEYS[1]) elseif c == 1 then redis.call('DEL', KEYS[1]) end return 0",
  counterExtend: "local t = redis.call('PTTL', KEYS[1]) if t >= 0 and t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return 0"
}
type Scripted = Redis & { [name in keyof typeof SCRIPTS]: (key: string, ...args: Array<string | number>) => unknown }

/** No limit, as a number Lua compares. */
const UNLIMITED = 2 ** 52

/** Runs `script` once per key in one pipeline; rejects on any error. */
async function each (redis: Scripted, script: keyof typeof SCRIPTS | 'del', keys: string[], ...args: number[]): Promise<unknown[]> {
  const pipeline = redis.pipeline() as unknown as Scripted & { exec: Redis['exec'], del: (key: string) => unknown }
  for (const key of keys) pipeline[script](key, ...args)
  // exec() answers null only for an aborted MULTI; a pipeline always has its results.
  const results = await pipeline.exec() as Array<[Error | null, unknown]>
  const failed = results.find(([err]) => err)
  if (failed) throw failed[0]
  return results.map(([, value]) => value)
}

/** `text` as a literal in a SCAN MATCH pattern. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`)

/** Counters in Redis under `prefix`, for every replica at once. */
export function redisCounters (redis: Redis, prefix: string): Counters {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  const scripted = redis as Scripted
  const full = (keys: string[]) => keys.map((key) => prefix + key)
  return {
    async peek (keys) {
      const results = await each(scripted, 'counterPeek', full(keys)) as Array<[number, number]>
      return results.map(([count, ttl]): Count => ({ count, ttl: Math.max(0, ttl) }))
    },
    async add (key, windowMs, limit = UNLIMITED) {
      const [[count, ttl, added]] = await each(scripted, 'counterAdd', full([key]), windowMs, limit) as [[number, number, number]]
      return { count, ttl, added: added === 1 }
    },
    async remove (keys) { await each(scripted, 'counterRemove', full(keys)) },
    async extend (keys, ms) { await each(scripted, 'counterExtend', full(keys), ms) },
    async delete (keys) { await each(scripted, 'del', full(keys)) },
    async deleteMatching (keyPrefix) {
      const stream = redis.scanStream({ match: `${globLiteral(prefix + keyPrefix)}*`, count: 1000 })
      for await (const keys of stream) if ((keys as string[]).length > 0) await each(scripted, 'del', keys as string[])
    }
  }
}
