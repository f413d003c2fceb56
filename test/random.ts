// Random inputs a failure can be replayed from: every value comes from one seed, printed in the
// assertion messages; `TEST_SEED=<seed> npx tap <file>` gives the same values again.
import { createHash, randomBytes } from 'node:crypto'

/** TEST_SEED, or a fresh random seed. */
export function testSeed (): string {
  return process.env.TEST_SEED ?? randomBytes(16).toString('hex')
}

/** `length` bytes that depend only on `seed` and `label` (SHAKE256 as an expandable hash). */
export function seededBytes (seed: string, label: string, length: number): Buffer {
  return createHash('shake256', { outputLength: length }).update(`${seed}:${label}`).digest()
}

/** `text` as a pattern that matches exactly itself (`+`, `.`, `(` and the like lose their meaning). */
export function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
