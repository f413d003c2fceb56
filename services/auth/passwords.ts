// Password hashing with argon2id at OWASP's parameters (m=19456 KiB, t=2, p=1). The hash runs on
// libuv's thread pool (@node-rs/argon2 is async), so a login never blocks the event loop.
import { randomBytes } from 'node:crypto'
import { hash, verify, type Algorithm } from '@node-rs/argon2'

export const ARGON2_OPTIONS = {
  // Algorithm is a const enum, which verbatimModuleSyntax cannot read at run time: 2 is Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1
} as const

export async function hashPassword (password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

/**
 * A checker that costs one argon2id verification whether or not the user exists: an unknown
 * username is checked against a hash of a random password, so timing tells nothing.
 */
export async function createPasswordChecker () {
  const decoyHash = await hashPassword(randomBytes(32).toString('base64url'))
  return async function passwordMatches (storedHash: string | undefined, password: string): Promise<boolean> {
    const matches = await verify(storedHash ?? decoyHash, password)
    return storedHash !== undefined && matches
  }
}
