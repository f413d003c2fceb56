// Expiring counters for login throttling: in Redis, shared by every replica, or in this process.
// @fastify/rate-limit counts every request as it arrives and cannot read a count without adding
// to it; throttling on failures needs both, so these few operations are written here.
//
// A key is `<kind>:<rest>`; each kind of count (per address, per username, per device, …) has a
// bound of its own in this process (see local-counters.ts), so a flood of one kind never pushes
// out a count of another.

export interface Count {
  count: number
  /** Milliseconds until the counter expires (0 when there is none). */
  ttl: number
}

export interface Added extends Count {
  /** False when the key already held its limit: nothing was added, and `count` is that limit or more. */
  added: boolean
}

export interface Counters {
  /** The live count of each key (0 for none); changes nothing. */
  peek (keys: string[]): Promise<Count[]>
  /** Adds one to `key` (a new key lives `windowMs`) unless it already holds `limit` (then nothing is added): the count after. */
  add (key: string, windowMs: number, limit?: number): Promise<Added>
  /** Takes one back from each key; a key back at zero is forgotten. */
  remove (keys: string[]): Promise<void>
  /** Makes each existing key live at least `ms` from now. */
  extend (keys: string[], ms: number): Promise<void>
  /** Forgets each key. */
  delete (keys: string[]): Promise<void>
  /** Forgets every key that starts with `prefix` (an operator's unlock; never on a request's path). */
  deleteMatching (prefix: string): Promise<void>
}

/** The kind of a key: what comes before its first `:`. */
export function kindOf (key: string): string {
  return key.slice(0, key.indexOf(':'))
}

/** `shared`, and `local` for any operation `shared` fails (after calling `warn`); deleteMatching forgets in both. */
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
    peek: fallBack((counters, keys: string[]) => counters.peek(keys)),
    add: fallBack((counters, key: string, windowMs: number, limit?: number) => counters.add(key, windowMs, limit)),
    remove: fallBack((counters, keys: string[]) => counters.remove(keys)),
    extend: fallBack((counters, keys: string[], ms: number) => counters.extend(keys, ms)),
    delete: fallBack((counters, keys: string[]) => counters.delete(keys)),
    // What was counted here while Redis was down is forgotten too.
    async deleteMatching (prefix) {
      await local.deleteMatching(prefix)
      await shared.deleteMatching(prefix)
    }
  }
}
