// Rotation of the PEM-file key ring: next → active, active → retired, a new next, and retired
// keys past their window removed. Used by `npm run keys:rotate` and by automatic rotation.
import { addKeyFile, readKeys, readManifest, removeKeyFile, writeManifest, type KeyRecord } from './key-files.js'
import { NextKeyTooYoungError } from './errors.js'
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
  /** Kids removed from the ring (and their PEM files deleted). */
  pruned: string[]
}

const ageSeconds = (since: string, now: Date) => (now.getTime() - Date.parse(since)) / 1000

/** Retired keys whose window has passed: every token they signed has expired everywhere. */
function expiredRetired (keys: KeyRecord[], retireWindow: number, now: Date): KeyRecord[] {
  return keys.filter((key) => key.state === 'retired' && ageSeconds(key.retiredAt ?? key.createdAt, now) >= retireWindow)
}

/** Rotates the ring in `dir`; throws NextKeyTooYoungError (unless forced) and writes nothing then. */
export async function rotateKeyFiles (dir: string, options: RotationOptions): Promise<RotationResult> {
  const now = options.now ?? new Date()
  const keys = await readManifest(dir)
  const current = keys.find((key) => key.state === 'active') as KeyRecord // readManifest demands exactly one
  // The oldest next key has been published longest.
  const nextKey = keys.filter((key) => key.state === 'next').sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]
  if (nextKey && !options.force && ageSeconds(nextKey.createdAt, now) < options.minNextAge) {
    const after = new Date(Date.parse(nextKey.createdAt) + options.minNextAge * 1000).toISOString()
    throw new NextKeyTooYoungError(nextKey.kid, options.minNextAge, after)
  }
  const pruned = expiredRetired(keys, options.retireWindow, now)
  const kept = keys.filter((key) => key !== current && key !== nextKey && !pruned.includes(key))
  // Never promote (or keep publishing) a key whose file is bad: the running service would refuse
  // the new ring and go on signing with a key the manifest calls retired.
  await readKeys(dir, [current, ...(nextKey ? [nextKey] : []), ...kept])
  const stamp = now.toISOString()
  const active: KeyRecord = nextKey
    ? { ...nextKey, state: 'active', activatedAt: stamp }
    : await addKeyFile(dir, 'active', now)
  const retired: KeyRecord = { ...current, state: 'retired', retiredAt: stamp }
  const next = await addKeyFile(dir, 'next', now)
  // Manifest first: from here on nothing names the pruned keys, so deleting their files is safe.
  await writeManifest(dir, [active, next, retired, ...kept])
  for (const key of pruned) await removeKeyFile(dir, key.kid)
  return { active, retired, next, pruned: pruned.map((key) => key.kid) }
}

/** Seconds the active key has been signing. */
export function activeKeyAge (key: KeyRecord, now = new Date()): number {
  return ageSeconds(key.activatedAt ?? key.createdAt, now)
}
