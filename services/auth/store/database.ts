// One Kysely instance over SQLite (the embedded default) or PostgreSQL, chosen by DATABASE_URL.
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { migrateToLatest } from './migrations.js'
import { createPostgresPool } from './postgres-pool.js'
import type { Database } from './tables.js'

export interface DatabaseOptions {
  /** `sqlite:<path>` (or `sqlite::memory:`) or `postgres://…`. */
  url: string
  /** PostgreSQL only: pool size, and milliseconds to wait for a connection and for a statement. */
  poolMax?: number
  connectTimeout?: number
  statementTimeout?: number
  onConnectionError?: (err: Error) => void
  /** Refuse an SQLite file that does not exist instead of creating it (see openExistingDatabase). */
  mustExist?: boolean
}

/** A tool that works on existing data was pointed at a database that does not exist. */
export class DatabaseMissingError extends Error {}

export function isPostgresUrl (url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url)
}

function sqlitePath (url: string): string {
  if (!url.startsWith('sqlite:')) throw new Error(`DATABASE_URL must start with sqlite: or postgres://, got ${url.split(':')[0]}:`)
  return url.slice('sqlite:'.length)
}

export function createDatabase (options: DatabaseOptions): Kysely<Database> {
  if (isPostgresUrl(options.url)) {
    const pool = createPostgresPool({
      url: options.url,
      poolMax: options.poolMax ?? 10,
      connectTimeout: options.connectTimeout ?? 5000,
      statementTimeout: options.statementTimeout ?? 10_000,
      onConnectionError: options.onConnectionError
    })
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  }
  const path = sqlitePath(options.url)
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) throw new DatabaseMissingError(`No database at ${resolve(path)} (DATABASE_URL); nothing changed.`)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SQLite(path)
  // WAL lets readers proceed while a login writes; busy_timeout waits instead of failing on a lock.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
}

/**
 * For the CLIs that work on existing data: DATABASE_URL's database, migrated. One that does not
 * exist is refused in one line naming it (an SQLite file is never created, a PostgreSQL database
 * never exists by accident), so a wrong path cannot end in "no such user" about an empty new one.
 */
export async function openExistingDatabase (options: DatabaseOptions): Promise<Kysely<Database>> {
  const db = createDatabase({ ...options, mustExist: true })
  try {
    await migrateToLatest(db)
  } catch (err) {
    await db.destroy()
    // 3D000: invalid_catalog_name, "database … does not exist".
    if ((err as { code?: string }).code !== '3D000') throw err
    const url = new URL(options.url)
    throw new DatabaseMissingError(`No database ${url.pathname.slice(1)} at ${url.host} (DATABASE_URL); nothing changed.`)
  }
  return db
}
