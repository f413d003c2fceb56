// Opaque secrets (refresh tokens, client secrets): 256 random bits, stored only as SHA-256.
// A fast hash is enough here, unlike passwords: nobody can guess 256 random bits, so there is
// no dictionary to slow down, and lookups by hash stay a primary-key read.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function newSecret (): string {
  return randomBytes(32).toString('base64url')
}

export function secretHash (secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches (secret: string, storedHash: string): boolean {
  const presented = Buffer.from(secretHash(secret), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}
