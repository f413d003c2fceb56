// The key ring in the database (KEYS_BACKEND=database): one row per key, its private key sealed
// with AES-256-GCM (key-encryption.ts), so that several auth replicas share one ring. Each replica
// polls `version()` (kids and states: a few short rows) and reloads when it changed.
//
// Rotation (and retiring a key early) is coordinated: it re-reads the ring, applies the shared plan (plugins/issuer/
// key-rotation.ts) and writes it in one transaction that holds a ring-wide lock. A replica that
// rotates right after another finds a next key that is too young and is refused, so two replicas
// racing never rotate twice.
import type { Kysely, Selectable } from 'kysely'
import type { KeyObject } from 'node:crypto'
import { Value } from '@sinclair/typebox/value'
import createError from '@fastify/error'
import { KeyRingMissingError } from '../../../plugins/issuer/errors.js'
import { KeyRecordSchema, newKeyRecord, type KeyRecord, type LoadedKey } from '../../../plugins/issuer/key-files.js'
import { generatePrivateKeyPem, parseSigningKey } from '../../../plugins/issuer/key-material.js'
import { applyRotation, planRetirement, planRotation } from '../../../plugins/issuer/key-rotation.js'
import type { KeyStore } from '../../../plugins/issuer/key-store.js'
import { openPrivateKey, sealPrivateKey } from './key-encryption.js'
import { withRingLock } from './ring-lock.js'
import type { Database, SigningKeysTable } from './tables.js'

export const SOURCE = 'the database (table signing_keys)'

export const KeyRingInvalidError = createError<[string]>(
  'AUTH_KEY_RING_INVALID', 'The key ring in the database is unusable: %s', 500)

export const KeyRingConflictError = createError<[number]>(
  'AUTH_KEY_RING_CONFLICT', 'The database already holds a different key ring (%d keys); nothing was imported', 409)

export interface DatabaseKeyStoreOptions {
  encryptionKey: KeyObject
  /** PostgreSQL locks with an advisory lock; SQLite with its write lock. */
  postgres: boolean
}

type Row = Selectable<SigningKeysTable>

function toRecord (row: Row): KeyRecord {
  const record = {
    kid: row.kid,
    state: row.state,
    createdAt: row.created_at,
    ...(row.activated_at !== null && { activatedAt: row.activated_at }),
    ...(row.retired_at !== null && { retiredAt: row.retired_at })
  }
  if (!Value.Check(KeyRecordSchema, record)) throw new KeyRingInvalidError(`row ${row.kid} is not a key record`)
  return record
}

function toRow (record: KeyRecord, sealed: string): Row {
  return {
    kid: record.kid,
    state: record.state,
    created_at: record.createdAt,
    activated_at: record.activatedAt ?? null,
    retired_at: record.retiredAt ?? null,
    private_key_sealed: sealed
  }
}

/** Decrypts and checks one row; the thumbprint must be the row's kid. */
function openRow (row: Row, encryptionKey: KeyObject): LoadedKey {
  const record = toRecord(row)
  const key = parseSigningKey(openPrivateKey(encryptionKey, row.kid, row.private_key_sealed), `signing_keys row ${row.kid}`)
  if (key.kid !== row.kid) throw new KeyRingInvalidError(`row ${row.kid} holds the key ${key.kid}`)
  return { ...record, ...key }
}

/** Kids and states in code-unit order (not the database's collation, which differs by server). */
function versionOf (rows: Array<Pick<Row, 'kid' | 'state'>>): string {
  return rows.map((row) => `${row.kid}:${row.state}`).sort().join(' ')
}

async function readRows (db: Kysely<Database>): Promise<Row[]> {
  return db.selectFrom('signing_keys').selectAll().execute()
}

/** Every key, decrypted and checked: a ring with exactly one active key. */
function openRing (rows: Row[], encryptionKey: KeyObject): LoadedKey[] {
  if (rows.length === 0) throw new KeyRingMissingError(SOURCE)
  const keys = rows.map((row) => openRow(row, encryptionKey))
  const active = keys.filter((key) => key.state === 'active').length
  if (active !== 1) throw new KeyRingInvalidError(`${active} active keys, exactly one must sign`)
  return keys
}

export function createDatabaseKeyStore (db: Kysely<Database>, options: DatabaseKeyStoreOptions) {
  const { encryptionKey } = options
  const locked = <T>(work: (db: Kysely<Database>) => Promise<T>) => withRingLock(db, options.postgres, work)

  async function insertKey (trx: Kysely<Database>, record: KeyRecord, pem: string): Promise<void> {
    await trx.insertInto('signing_keys').values(toRow(record, sealPrivateKey(encryptionKey, record.kid, pem))).execute()
  }

  /** Generates a key, stores it sealed, returns its record. */
  async function createKey (trx: Kysely<Database>, state: KeyRecord['state'], now: Date): Promise<KeyRecord> {
    const pem = generatePrivateKeyPem()
    const record = newKeyRecord(parseSigningKey(pem, 'generated key').kid, state, now)
    await insertKey(trx, record, pem)
    return record
  }

  async function updateState (trx: Kysely<Database>, record: KeyRecord): Promise<void> {
    await trx.updateTable('signing_keys')
      .set({ state: record.state, activated_at: record.activatedAt ?? null, retired_at: record.retiredAt ?? null })
      .where('kid', '=', record.kid).execute()
  }

  const store: KeyStore = {
    describe: SOURCE,
    async version () {
      return versionOf(await db.selectFrom('signing_keys').select(['kid', 'state']).execute())
    },
    async load () {
      const rows = await readRows(db)
      return { version: versionOf(rows), keys: openRing(rows, encryptionKey) }
    },
    rotate: (rotation) => locked(async (trx) => {
      // Every key is decrypted first: a ring that cannot load is never rotated.
      const keys = openRing(await readRows(trx), encryptionKey)
      const plan = planRotation(keys, rotation, SOURCE)
      const { result } = await applyRotation(plan, (state) => createKey(trx, state, plan.now))
      if (plan.promoted) await updateState(trx, result.active)
      await updateState(trx, result.retired)
      if (result.pruned.length > 0) await trx.deleteFrom('signing_keys').where('kid', 'in', result.pruned).execute()
      return result
    }),
    retire: (kid) => locked(async (trx) => {
      const { removed } = planRetirement((await readRows(trx)).map(toRecord), kid)
      await trx.deleteFrom('signing_keys').where('kid', '=', kid).execute()
      return removed
    })
  }

  return {
    ...store,
    /** Creates a ring (an active key and the next one) unless the database holds one. */
    ensure: () => locked(async (trx) => {
      const existing = await readRows(trx)
      if (existing.length > 0) return { created: false, keys: existing.map(toRecord) }
      const now = new Date()
      return { created: true, keys: [await createKey(trx, 'active', now), await createKey(trx, 'next', now)] }
    }),
    /**
     * Stores `keys` (a PEM ring, with states and dates) sealed. The same ring again is a no-op;
     * any other ring already in the database is a KeyRingConflictError and nothing is written.
     */
    importKeys: (keys: LoadedKey[]) => locked(async (trx): Promise<{ imported: boolean }> => {
      const existing = await trx.selectFrom('signing_keys').select(['kid', 'state']).execute()
      if (existing.length > 0 && versionOf(existing) !== versionOf(keys)) throw new KeyRingConflictError(existing.length)
      if (existing.length > 0) return { imported: false }
      for (const key of keys) await insertKey(trx, key, key.privatePem)
      return { imported: true }
    })
  }
}

export type DatabaseKeyStore = ReturnType<typeof createDatabaseKeyStore>
