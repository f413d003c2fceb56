// The physical limits, measured in this process while no server is under load: RS256 verify and
// sign with prepared KeyObjects on one core, and argon2id hashes at the service's parameters.
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { hashPassword } from '../../services/auth/passwords.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
// A signing input the size of our access tokens (header + claims, base64url).
const SIGNING_INPUT = Buffer.from('e'.repeat(40) + '.' + 'p'.repeat(330))
const SIGNATURE = sign('sha256', SIGNING_INPUT, privateKey)

function opsPerSecond (durationMs: number, operation: () => void): number {
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (let i = 0; i < 32; i++) operation()
    ops += 32
    elapsed = performance.now() - start
  }
  return ops / (elapsed / 1000)
}

/** RS256 verifications per second, the key already imported (the best a verifier can do). */
export function rs256VerifyRate (durationMs: number, key: KeyObject = publicKey): number {
  return opsPerSecond(durationMs, () => {
    if (!verify('sha256', SIGNING_INPUT, key, SIGNATURE)) throw new Error('bench: RS256 self-check failed')
  })
}

/** RS256 signatures per second with an imported 2048-bit private key. */
export function rs256SignRate (durationMs: number): number {
  return opsPerSecond(durationMs, () => { sign('sha256', SIGNING_INPUT, privateKey) })
}

/**
 * Milliseconds of each argon2id hash when `callers` callers each hash `count` times, one after the
 * other, all at once, through the service's own worker pool (no HTTP, no database).
 */
export async function argon2HashTimes (count: number, callers = 1): Promise<number[]> {
  const times: number[] = []
  async function caller () {
    for (let i = 0; i < count; i++) {
      const start = performance.now()
      await hashPassword('correct horse battery staple')
      times.push(performance.now() - start)
    }
  }
  await Promise.all(Array.from({ length: callers }, caller))
  return times
}
