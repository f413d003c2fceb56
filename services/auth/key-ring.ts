// The auth service's key ring, for the app, the key CLIs and --dev: the PEM folder (KEYS_DIR), or
// the database when KEYS_BACKEND=database (private keys sealed with KEYS_ENCRYPTION_KEY).
import { resolve } from 'node:path'
import type { Kysely } from 'kysely'
import { ensureKeyFiles } from '../../plugins/issuer/key-files.js'
import { rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import type { KeyStore } from '../../plugins/issuer/key-store.js'
import type { AuthAppOptions } from './app.js'
import { createDatabase, isPostgresUrl, openExistingDatabase } from './store/database.js'
import { migrateToLatest } from './store/migrations.js'
import { createDatabaseKeyStore, SOURCE, type DatabaseKeyStore } from './store/signing-keys.js'
import type { Database } from './store/tables.js'

type KeySettings = Pick<AuthAppOptions, 'keysDir' | 'keysBackend' | 'keysEncryptionKey' | 'databaseUrl'>

/** The database key store for the auth service's settings (KEYS_ENCRYPTION_KEY is required). */
export function databaseKeyStore (db: Kysely<Database>, settings: KeySettings): DatabaseKeyStore {
  if (!settings.keysEncryptionKey) throw new TypeError('the database key backend needs keysEncryptionKey')
  return createDatabaseKeyStore(db, { encryptionKey: settings.keysEncryptionKey, postgres: isPostgresUrl(settings.databaseUrl) })
}

/** The issuer plugin's key option for the auth service's settings: the PEM folder, or the database. */
export function issuerKeySource (db: Kysely<Database>, settings: KeySettings): { keysDir: string } | { keyStore: KeyStore } {
  return settings.keysBackend === 'database' ? { keyStore: databaseKeyStore(db, settings) } : { keysDir: settings.keysDir }
}

export interface CliKeyRing extends Pick<DatabaseKeyStore, 'ensure' | 'rotate'> {
  /** Where the ring is, for messages. */
  where: string
  /** How its private keys are protected, for messages. */
  protection: string
  close (): Promise<void>
}

/** The database's key store (schema migrated first); `close` releases the connection. `existing`: a database that does not exist is refused, not created. */
export async function openDatabaseKeyStore (options: AuthAppOptions, existing = false) {
  const db = existing ? await openExistingDatabase({ url: options.databaseUrl }) : createDatabase({ url: options.databaseUrl })
  try {
    if (!existing) await migrateToLatest(db)
  } catch (err) {
    await db.destroy()
    throw err
  }
  return { ...databaseKeyStore(db, options), close: () => db.destroy() }
}

/** The ring of KEYS_BACKEND; `existing` (a rotation): its database must exist already. */
export async function openKeyRing (options: AuthAppOptions, existing = false): Promise<CliKeyRing> {
  if (options.keysBackend === 'database') {
    const store = await openDatabaseKeyStore(options, existing)
    return { where: SOURCE, protection: 'private keys sealed with KEYS_ENCRYPTION_KEY', ...store }
  }
  const dir = resolve(options.keysDir)
  return {
    where: dir,
    protection: 'private keys mode 0600',
    ensure: () => ensureKeyFiles(dir),
    rotate: (rotation) => rotateKeyFiles(dir, rotation),
    close: async () => {}
  }
}
