// One Kysely instance over SQLite (the embedded default) or PostgreSQL, chosen by DATABASE_URL.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
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
}

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
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SQLite(path)
  // WAL lets readers proceed while a login writes; busy_timeout waits instead of failing on a lock.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
}
