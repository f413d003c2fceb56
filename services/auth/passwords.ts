// Password hashing with argon2id at OWASP's parameters, off the event loop: a pool of worker
// threads, one per core, each at a lowered CPU priority (nice +10), so a burst of logins uses
// every idle core yet the event loop always comes first and the JWKS, refreshes and
// client_credentials stay fast. (On 2 cores, libuv's 4 threads hashing at normal priority made the
// JWKS p99 37x its idle value under 20 concurrent logins.)
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { extname } from 'node:path'
import { Piscina } from 'piscina'
import type { PasswordTask } from './password-worker.js'

const pool = new Piscina<PasswordTask, string | boolean>({
  // password-worker.ts under tsx, password-worker.js in the build (npm run build).
  filename: new URL(`./password-worker${extname(import.meta.url)}`, import.meta.url).href,
  minThreads: 0,
  maxThreads: availableParallelism(),
  idleTimeout: 30_000,
  niceIncrement: 10
})

export async function hashPassword (password: string): Promise<string> {
  return await pool.run({ op: 'hash', password }) as string
}

/**
 * A checker that costs one argon2id verification whether or not the user exists: an unknown
 * username is checked against a hash of a random password, so timing tells nothing.
 */
export async function createPasswordChecker () {
  const decoyHash = await hashPassword(randomBytes(32).toString('base64url'))
  return async function passwordMatches (storedHash: string | undefined, password: string): Promise<boolean> {
    const matches = await pool.run({ op: 'verify', hash: storedHash ?? decoyHash, password }) as boolean
    return storedHash !== undefined && matches
  }
}
