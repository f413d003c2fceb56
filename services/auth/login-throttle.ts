// Login throttling on failures (see README "Login throttling" for the design against OWASP's
// guidance). Three counts, each per window:
// - per client address (IPv6: per /64), whatever the username: one source spraying many accounts;
// - per (username, address): one source guessing one account;
// - per username, from every address: a distributed campaign. Beyond its cap, an address that has
//   failed for that username waits a delay that doubles with each further failure (up to
//   maxDelay), while an address that has not failed for it still gets its attempts: the owner
//   logs in from their own address whatever the campaign does.
// An attempt is counted as a failure before the password is checked, so parallel requests cannot
// all slip under a limit; a success takes its own counts back, and only its own.
import { addressGroup } from './address-group.js'
import type { Count, Counters } from './counters.js'
import { normaliseUsername } from './store/users.js'

export interface LoginThrottleOptions {
  /** Failures per client address, per username from all addresses, per (username, address), in `rateWindow` seconds. */
  maxPerIp: number
  maxPerUsername: number
  maxPerUsernameAndIp: number
  rateWindow: number
  /** Seconds: the longest wait a failing address gets during a campaign against one username. */
  maxDelay: number
}

/** Why an attempt is refused: the count that is full, or undefined. */
function fullCount (options: LoginThrottleOptions, [perIp, perUser, perPair]: Count[]): Count | undefined {
  if (perIp!.count > options.maxPerIp) return perIp
  if (perPair!.count > options.maxPerUsernameAndIp) return perPair
  // Counts include this attempt: beyond the username's cap, an address that already failed for it waits.
  if (perUser!.count - 1 >= options.maxPerUsername && perPair!.count - 1 >= 1) return perPair
  return undefined
}

export function createLoginThrottle (counters: Counters, options: LoginThrottleOptions) {
  const windowMs = options.rateWindow * 1000

  /** Counts a login attempt in advance as a failure; or refuses it, with the seconds to wait, when a limit is reached. */
  async function admit (username: string, ip: string) {
    const address = addressGroup(ip)
    const user = normaliseUsername(username)
    // An address holds no space, so `pair` cannot be read two ways whatever the username.
    const [ipKey, userKey, pairKey] = [`ip:${address}`, `user:${user}`, `pair:${address} ${user}`]
    const keys = [ipKey, userKey, pairKey]
    const counts = await counters.add(keys, windowMs)
    const full = fullCount(options, counts)
    if (full) {
      await counters.remove(keys)
      return { refused: true as const, retryAfter: Math.max(1, Math.ceil(full.ttl / 1000)) }
    }
    const userFailures = counts[1]!.count
    return {
      refused: false as const,
      /** A wrong password (or unknown user): the counts stay; beyond the username's cap, the delay grows. */
      async failed () {
        const beyondCap = userFailures - options.maxPerUsername
        if (beyondCap < 0) return counters.extend([userKey], windowMs)
        const delay = Math.min(windowMs * 2 ** beyondCap, options.maxDelay * 1000)
        await counters.extend([userKey, pairKey], delay)
      },
      /** The right password: this address's count for this username is cleared, its other counts taken back. */
      async succeeded () {
        await counters.delete(pairKey)
        await counters.remove([ipKey, userKey])
      },
      /** Neither (the store failed): the attempt is taken back. */
      async abandoned () { await counters.remove(keys) }
    }
  }
  return { admit }
}
