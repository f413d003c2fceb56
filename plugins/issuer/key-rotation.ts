// Rotation of the key ring: next → active, active → retired, a new next, and retired keys past
// their window removed. The rules are a pure plan (planRotation, applyRotation) that every backend
// applies the same way; rotateKeyFiles is the PEM-file backend. Used by `npm run keys:rotate`, by
// automatic rotation and by `fastify.issuer.rotateKeys()`.
import { addKeyFile, readKeys, readManifest, removeKeyFile, writeManifest, type KeyRecord } from './key-files.js'
import { KeyNotFoundError, KeyNotRetiredError, NextKeyTooYoungError, NoActiveKeyError } from './errors.js'
import type { KeyTiming } from './key-timing.js'

export interface RotationOptions extends KeyTiming {
  /** Promote a next key younger than `minNextAge` (verifiers may need a kid-miss refetch). */
  force?: boolean
  now?: Date
}

export interface RotationResult {
  /** The key that signs from now on (the former next key, or a new one if there was none). */
  active: KeyRecord
  /** The key that signed until now. */
  retired: KeyRecord
  /** The new next key, published now, signing from the following rotation. */
  next: KeyRecord
  /** Kids removed from the ring (and their stored private keys deleted). */
  pruned: string[]
}

export interface RotationPlan {
  now: Date
  /** The key that signs until now. */
  current: KeyRecord
  /** The next key to promote; undefined: the ring has none, a new active key is made. */
  promoted: KeyRecord | undefined
  /** Retired keys whose window has passed. */
  pruned: KeyRecord[]
  /** Every other key, unchanged. */
  kept: KeyRecord[]
}

const ageSeconds = (since: string, now: Date) => (now.getTime() - Date.parse(since)) / 1000

/** Retired keys whose window has passed: every token they signed has expired everywhere. */
function expiredRetired (keys: KeyRecord[], retireWindow: number, now: Date): KeyRecord[] {
  return keys.filter((key) => key.state === 'retired' && ageSeconds(key.retiredAt ?? key.createdAt, now) >= retireWindow)
}

/** What a rotation of `keys` does; throws NextKeyTooYoungError (unless forced) before anything is written. */
export function planRotation (keys: KeyRecord[], options: RotationOptions, source: string): RotationPlan {
  const now = options.now ?? new Date()
  const current = keys.find((key) => key.state === 'active')
  if (!current) throw new NoActiveKeyError(source)
  // The oldest next key has been published longest.
  const promoted = keys.filter((key) => key.state === 'next').sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]
  if (promoted && !options.force && ageSeconds(promoted.createdAt, now) < options.minNextAge) {
    const after = new Date(Date.parse(promoted.createdAt) + options.minNextAge * 1000).toISOString()
    throw new NextKeyTooYoungError(promoted.kid, options.minNextAge, after)
  }
  const pruned = expiredRetired(keys, options.retireWindow, now)
  const kept = keys.filter((key) => key !== current && key !== promoted && !pruned.includes(key))
  return { now, current, promoted, pruned, kept }
}

/** The keys a plan goes on publishing: a backend checks each of them before it writes the new ring. */
export function keysKept (plan: RotationPlan): KeyRecord[] {
  return [plan.current, ...(plan.promoted ? [plan.promoted] : []), ...plan.kept]
}

/**
 * Applies a plan. `createKey` makes and stores a new key in the state given; the caller then
 * writes `ring` (active, next, retired, then the kept keys) and deletes the pruned keys.
 */
export async function applyRotation (plan: RotationPlan, createKey: (state: 'active' | 'next') => Promise<KeyRecord>) {
  const stamp = plan.now.toISOString()
  const active: KeyRecord = plan.promoted ? { ...plan.promoted, state: 'active', activatedAt: stamp } : await createKey('active')
  const retired: KeyRecord = { ...plan.current, state: 'retired', retiredAt: stamp }
  const next = await createKey('next')
  const result: RotationResult = { active, retired, next, pruned: plan.pruned.map((key) => key.kid) }
  return { ring: [active, next, retired, ...plan.kept], result }
}

/** Rotates the ring in `dir`; throws NextKeyTooYoungError (unless forced) and writes nothing then. */
export async function rotateKeyFiles (dir: string, options: RotationOptions): Promise<RotationResult> {
  const plan = planRotation(await readManifest(dir), options, dir)
  // Never promote (or keep publishing) a key whose file is bad: the running service would refuse
  // the new ring and go on signing with a key the manifest calls retired.
  await readKeys(dir, keysKept(plan))
  const { ring, result } = await applyRotation(plan, (state) => addKeyFile(dir, state, plan.now))
  // Manifest first: from here on nothing names the pruned keys, so deleting their files is safe.
  await writeManifest(dir, ring)
  for (const kid of result.pruned) await removeKeyFile(dir, kid)
  return result
}

/**
 * The ring without the retired key `kid`, removed before its window ends (a suspected compromise:
 * tokens it signed stop verifying once verifiers refetch the JWKS). The active key is refused (rotate
 * first), and so is the next key (it signs nothing yet; a rotation replaces it).
 */
export function planRetirement (keys: KeyRecord[], kid: string): { removed: KeyRecord, ring: KeyRecord[] } {
  const removed = keys.find((key) => key.kid === kid)
  if (!removed) throw new KeyNotFoundError(kid)
  if (removed.state === 'active') throw new KeyNotRetiredError(kid, 'active', 'rotate first, then retire it')
  if (removed.state === 'next') throw new KeyNotRetiredError(kid, 'next', 'it signs nothing yet, and the next rotation promotes it')
  return { removed, ring: keys.filter((key) => key !== removed) }
}

/** Removes the retired key `kid` from the ring in `dir` now (manifest first, then its file). */
export async function retireKeyFile (dir: string, kid: string): Promise<KeyRecord> {
  const { removed, ring } = planRetirement(await readManifest(dir), kid)
  await writeManifest(dir, ring)
  await removeKeyFile(dir, kid)
  return removed
}

/** Seconds the active key has been signing. */
export function activeKeyAge (key: KeyRecord, now = new Date()): number {
  return ageSeconds(key.activatedAt ?? key.createdAt, now)
}
