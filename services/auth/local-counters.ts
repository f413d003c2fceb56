// Throttling counters in this process: one LRU table per kind of count, each with its own bound,
// so that filling one (say, failures from a flood of addresses) never pushes a count of another
// kind out (a username's lockout, a device's failures). Within a kind the least recently used
// goes first: a count a campaign keeps hitting stays. Only admitted attempts add entries, and one
// address group is admitted at most LOGIN_MAX_PER_IP times a window, so one address inserts at
// most that many per-username entries a window (see README "Login throttling" for the sizes).
import { LRUCache } from 'lru-cache'
import { kindOf, type Count, type Counters } from './counters.js'

/** Entries per kind (about 200 bytes each: the `user` table full is about 20 MB). */
export const COUNTER_CAPACITY: Readonly<Record<string, number>> = {
  ip: 50_000,
  user: 100_000,
  device: 50_000,
  lock: 20_000,
  strike: 20_000
}

interface Entry { count: number, expiresAt: number }

/** Counters in this process, at most `capacity[kind]` keys of each kind. */
export function localCounters (capacity: Readonly<Record<string, number>> = COUNTER_CAPACITY): Counters {
  const tables = new Map(Object.entries(capacity).map(([kind, max]) => [kind, new LRUCache<string, Entry>({ max })]))
  const tableOf = (key: string) => {
    const table = tables.get(kindOf(key))
    if (!table) throw new Error(`No counter table for ${key}`)
    return table
  }
  const live = (key: string, now = Date.now()) => {
    const entry = tableOf(key).get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }
  return {
    async peek (keys) {
      const now = Date.now()
      return keys.map((key): Count => {
        const entry = live(key, now)
        return entry ? { count: entry.count, ttl: entry.expiresAt - now } : { count: 0, ttl: 0 }
      })
    },
    async add (key, windowMs, limit = Infinity) {
      const now = Date.now()
      const entry = live(key, now) ?? { count: 0, expiresAt: now + windowMs }
      const added = entry.count < limit
      if (added) {
        entry.count++
        tableOf(key).set(key, entry)
      }
      return { count: entry.count, ttl: entry.expiresAt - now, added }
    },
    async remove (keys) {
      for (const key of keys) {
        const entry = live(key)
        if (entry && --entry.count <= 0) tableOf(key).delete(key)
      }
    },
    async extend (keys, ms) {
      const now = Date.now()
      for (const key of keys) {
        const entry = live(key, now)
        if (entry) entry.expiresAt = Math.max(entry.expiresAt, now + ms)
      }
    },
    async delete (keys) {
      for (const key of keys) tableOf(key).delete(key)
    },
    async deleteMatching (prefix) {
      const table = tableOf(prefix)
      for (const key of [...table.keys()]) if (key.startsWith(prefix)) table.delete(key)
    }
  }
}
