// Password hashing with argon2id at OWASP's parameters (m=19456 KiB, t=2, p=1). The hash runs on
// libuv's thread pool (@node-rs/argon2 is async), so a login never blocks the event loop.
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { hash, verify, type Algorithm } from '@node-rs/argon2'
import pLimit from 'p-limit'

// Never more hashes at once than cores minus one: libuv's 4 threads hashing on 2 cores starved the
// event-loop thread (JWKS p99 37x its idle value under 20 concurrent logins); logins queue instead.
const hashing = pLimit(Math.max(1, availableParallelism() - 1))

export const ARGON2_OPTIONS = {
  // Algorithm is a const enum, which verbatimModuleSyntax cannot read at run time: 2 is Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1
} as const

export async function hashPassword (password: string): Promise<string> {
  return hashing(() => hash(password, ARGON2_OPTIONS))
}

/**
 * A checker that costs one argon2id verification whether or not the user exists: an unknown
 * username is checked against a hash of a random password, so timing tells nothing.
 */
export async function createPasswordChecker () {
  const decoyHash = await hashPassword(randomBytes(32).toString('base64url'))
  return async function passwordMatches (storedHash: string | undefined, password: string): Promise<boolean> {
    const matches = await hashing(() => verify(storedHash ?? decoyHash, password))
    return storedHash !== undefined && matches
  }
}
