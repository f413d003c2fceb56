// Login throttling after OWASP's "Slow Down Online Guessing Attacks with Device Cookies" (see
// README "Login throttling"). A client that holds a valid device cookie for the username (it
// logged in as that user before) is counted alone: a few failures a window, then that device
// waits; nobody else's failures ever refuse it. Every other client shares one budget of failures
// per username, wherever it comes from; once spent, all of them wait, a delay that doubles each
// time the budget is spent again (up to maxDelay). They are also counted per address group
// (IPv6: per /64), whatever the username.
//
// An attempt is counted before the password is checked, so parallel requests cannot all slip under
// a limit, and a refused attempt is refused before anything is counted: it adds no entry.
import { addressGroup } from './address-group.js'
import type { Counters } from './counters.js'
import { normaliseUsername } from './store/users.js'

export interface LoginThrottleOptions {
  /** Failures per client address group per window, clients without a device cookie only. */
  maxPerIp: number
  /** Failures for one username from clients without a device cookie for it, all addresses together, per window. */
  maxPerUsername: number
  /** Failures per device cookie per window. */
  maxPerDevice: number
  /** Seconds. */
  rateWindow: number
  /** Seconds: the longest wait of clients without a device cookie once a username's budget is spent again and again. */
  maxDelay: number
}

/** What settles an admitted attempt: a wrong password, the right one, or neither (the store failed). */
export interface Attempt {
  refused: false
  failed (): Promise<void>
  succeeded (): Promise<void>
  abandoned (): Promise<void>
}
export type Admission = Attempt | { refused: true, retryAfter: number }

/** Where the counts live in Redis (REDIS_URL). */
export const REDIS_KEY_PREFIX = 'ssot-login:'

const refuse = (ttlMs: number) => ({ refused: true as const, retryAfter: Math.max(1, Math.ceil(ttlMs / 1000)) })

/** The key of one device cookie's count: the username first, so that unlocking it finds them all (a username holds no tab). */
const deviceKey = (name: string, device: string) => `device:${name}\t${device}`

/** Forgets every count of `username`: its budget, its lockout and strikes, its devices' failures. */
export async function unlockUsername (counters: Counters, username: string): Promise<void> {
  const name = normaliseUsername(username)
  await counters.delete([`user:${name}`, `lock:${name}`, `strike:${name}`])
  await counters.deleteMatching(deviceKey(name, ''))
}

export function createLoginThrottle (counters: Counters, options: LoginThrottleOptions) {
  const windowMs = options.rateWindow * 1000
  const maxDelayMs = options.maxDelay * 1000

  async function admitDevice (name: string, device: string): Promise<Admission> {
    const key = deviceKey(name, device)
    const counted = await counters.add(key, windowMs, options.maxPerDevice)
    if (!counted.added) return refuse(counted.ttl)
    return {
      refused: false,
      // OWASP: the device's last allowed failure locks it out until a whole window from now.
      failed: async () => { if (counted.count >= options.maxPerDevice) await counters.extend([key], windowMs) },
      succeeded: () => counters.delete([key]),
      abandoned: () => counters.remove([key])
    }
  }

  /** Every client without a device cookie waits: one window the first time, doubling each time after, up to maxDelay. */
  async function lockOut (name: string) {
    const strikes = await counters.add(`strike:${name}`, 2 * maxDelayMs)
    const delay = Math.min(windowMs * 2 ** (strikes.count - 1), maxDelayMs)
    await counters.add(`lock:${name}`, delay)
    await counters.extend([`lock:${name}`], delay)
    // A spent budget starts afresh after the wait; the strikes are forgotten once maxDelay passes without a lock.
    await counters.extend([`strike:${name}`], delay + maxDelayMs)
    await counters.delete([`user:${name}`])
  }

  async function admitUntrusted (name: string, ip: string): Promise<Admission> {
    const [ipKey, userKey, lockKey] = [`ip:${addressGroup(ip)}`, `user:${name}`, `lock:${name}`]
    const [perIp, lock] = await counters.peek([ipKey, lockKey])
    const full = [lock!.count > 0 && lock!.ttl, perIp!.count >= options.maxPerIp && perIp!.ttl].filter((ttl) => ttl !== false)
    if (full.length > 0) return refuse(Math.max(...full))
    const ipCounted = await counters.add(ipKey, windowMs, options.maxPerIp)
    if (!ipCounted.added) return refuse(ipCounted.ttl)
    const userCounted = await counters.add(userKey, windowMs, options.maxPerUsername)
    if (!userCounted.added) {
      // Raced: the budget's last attempts are in flight.
      await counters.remove([ipKey])
      return refuse(userCounted.ttl)
    }
    return {
      refused: false,
      failed: async () => { if (userCounted.count >= options.maxPerUsername) await lockOut(name) },
      succeeded: () => counters.remove([ipKey, userKey]),
      abandoned: () => counters.remove([ipKey, userKey])
    }
  }

  return {
    /** Admits a login attempt (counted in advance as a failure) or refuses it with the seconds to wait. `device`: the nonce of a valid device cookie for this username. */
    admit (username: string, ip: string, device?: string): Promise<Admission> {
      const name = normaliseUsername(username)
      return device === undefined ? admitUntrusted(name, ip) : admitDevice(name, device)
    },

    /** See unlockUsername. */
    unlock: (username: string) => unlockUsername(counters, username)
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
