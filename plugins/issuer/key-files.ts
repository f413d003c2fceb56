// The PEM-file backend of the key ring: `<kid>.pem` (mode 0600) per key and `keyring.json`
// naming each key's state. Every write is a temp file + rename, so a reader never sees half a file.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { KeyFileInvalidError, KeyRingMissingError } from './errors.js'
import { generatePrivateKeyPem, parseSigningKey, type SigningKey } from './key-material.js'

export const MANIFEST_FILE = 'keyring.json'

// An ISO 8601 UTC instant as Date#toISOString writes it; rotation does arithmetic on these.
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' })

export const KeyRecordSchema = Type.Object({
  kid: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  state: Type.Union([Type.Literal('next'), Type.Literal('active'), Type.Literal('retired')]),
  createdAt: Instant,
  activatedAt: Type.Optional(Instant),
  retiredAt: Type.Optional(Instant)
})
const ManifestSchema = Type.Object({ keys: Type.Array(KeyRecordSchema) })

export type KeyRecord = Static<typeof KeyRecordSchema>
export type LoadedKey = KeyRecord & SigningKey

/** Writes `data` so that `path` holds either the old or the new content, never a mix. */
export async function writeFileAtomic (path: string, data: string, mode = 0o600): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  // 'wx': never write through a file (or symlink) that is already there.
  await writeFile(temp, data, { mode, flag: 'wx' })
  await rename(temp, path)
}

/** The manifest's raw text; the reloader compares it to see whether anything changed. */
export async function readManifestText (dir: string): Promise<string> {
  try {
    return await readFile(join(dir, MANIFEST_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyRingMissingError(dir)
    throw new KeyFileInvalidError(join(dir, MANIFEST_FILE), (err as Error).message)
  }
}

function parseManifest (dir: string, text: string): KeyRecord[] {
  const path = join(dir, MANIFEST_FILE)
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch {
    throw new KeyFileInvalidError(path, 'not valid JSON')
  }
  if (!Value.Check(ManifestSchema, manifest)) throw new KeyFileInvalidError(path, 'not a key ring manifest')
  const active = manifest.keys.filter((key) => key.state === 'active').length
  if (active !== 1) throw new KeyFileInvalidError(path, `names ${active} active keys, exactly one must sign`)
  return manifest.keys
}

/** The manifest's records, checked (exactly one active key). */
export async function readManifest (dir: string): Promise<KeyRecord[]> {
  return parseManifest(dir, await readManifestText(dir))
}

async function readKey (dir: string, record: KeyRecord): Promise<LoadedKey> {
  const path = join(dir, `${record.kid}.pem`)
  let pem: Buffer
  try {
    pem = await readFile(path)
  } catch (err) {
    throw new KeyFileInvalidError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable')
  }
  const key = parseSigningKey(pem, path)
  if (key.kid !== record.kid) throw new KeyFileInvalidError(path, `its thumbprint is ${key.kid}, not the file name`)
  return { ...record, ...key }
}

/** Loads and checks the PEM file of each record; fails naming the first bad file. */
export async function readKeys (dir: string, records: KeyRecord[]): Promise<LoadedKey[]> {
  return Promise.all(records.map((record) => readKey(dir, record)))
}

/** Loads and checks every key named by a manifest's text; fails naming the first bad file. */
export async function loadKeysFromManifest (dir: string, manifestText: string): Promise<LoadedKey[]> {
  return readKeys(dir, parseManifest(dir, manifestText))
}

/** Adds a new key in `state` to the folder (PEM first, then the manifest that names it). */
export async function addKeyFile (dir: string, state: KeyRecord['state'], now = new Date()): Promise<KeyRecord> {
  const pem = generatePrivateKeyPem()
  const { kid } = parseSigningKey(pem, 'generated key')
  await writeFileAtomic(join(dir, `${kid}.pem`), pem)
  return newKeyRecord(kid, state, now)
}

/** The record of a key created `now`; an active key is active from its creation. */
export function newKeyRecord (kid: string, state: KeyRecord['state'], now: Date): KeyRecord {
  const createdAt = now.toISOString()
  return state === 'active' ? { kid, state, createdAt, activatedAt: createdAt } : { kid, state, createdAt }
}

/** Deletes a key's PEM file; one already gone is fine. */
export async function removeKeyFile (dir: string, kid: string): Promise<void> {
  await unlink(join(dir, `${kid}.pem`)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}

export async function writeManifest (dir: string, keys: KeyRecord[]): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify({ keys }, null, 2) + '\n')
}

/** Creates a key ring (an active key and the next one) in `dir` unless one is there already. */
export async function ensureKeyFiles (dir: string): Promise<{ created: boolean, keys: KeyRecord[] }> {
  try {
    return { created: false, keys: await readManifest(dir) }
  } catch (err) {
    if (!(err instanceof KeyRingMissingError)) throw err
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const keys = [await addKeyFile(dir, 'active'), await addKeyFile(dir, 'next')]
  await writeManifest(dir, keys)
  return { created: true, keys }
}
