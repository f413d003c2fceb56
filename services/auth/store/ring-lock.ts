// One writer of the key ring at a time, across every replica that shares the database.
import { sql, type Kysely } from 'kysely'
import type { Database } from './tables.js'

// better-sqlite3 is synchronous: a second connection of this process waiting for SQLite's write
// lock would block the very thread that has to finish the first transaction (until busy_timeout
// fails it). So ring writers of one process queue here, and BEGIN IMMEDIATE (which takes the write
// lock before the first read) orders them against other processes.
let sqliteQueue: Promise<unknown> = Promise.resolve()

async function sqliteExclusive<T> (db: Kysely<Database>, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection)
    try {
      const result = await work(connection)
      await sql`commit`.execute(connection)
      return result
    } catch (err) {
      await sql`rollback`.execute(connection)
      throw err
    }
  })
}

/**
 * Runs `work` in a transaction that holds the ring lock; it re-reads what it changes. PostgreSQL:
 * a transaction-scoped advisory lock, keyed by schema so separate rings in one database (a schema
 * each) do not wait for each other; it is released by COMMIT or ROLLBACK, even if the replica dies.
 */
export async function withRingLock<T> (db: Kysely<Database>, postgres: boolean, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (postgres) {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.signing_keys'))`.execute(trx)
      return work(trx)
    })
  }
  const run = sqliteQueue.then(() => sqliteExclusive(db, work))
  sqliteQueue = run.catch(() => {})
  return run
}
