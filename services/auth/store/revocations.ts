// The revocation log the feed publishes (GET /revocations, see revocation-hub.ts). A revocation is
// written in the transaction of the state change it reflects (a session revoked, a user or a
// client disabled), so one never exists without the other.
//
// Ids must grow in COMMIT order: a follower that has seen id 7 asks for what comes after 7, so an
// id 6 committed after 7 would be lost. SQLite has one writer at a time, so its ids are assigned
// and committed in order. PostgreSQL hands out sequence values at insert time, not at commit, so
// each writer first takes a transaction-level advisory lock: the next writer gets its id only
// after the previous one has committed (the lock is released after the commit is visible).
// Writers take it last, after their row locks, so it never waits behind one (no deadlock).
import { PostgresAdapter, sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { CLOCK_SKEW_MARGIN } from '../../../plugins/issuer/key-timing.js'
import { revocationHash } from '../../../plugins/shared/revocation-hash.js'
import type { Database, RevocationsTable } from './tables.js'

/** One event of the feed; `exp` (unix seconds): after it no token the event affects is valid. */
export interface Revocation {
  id: number
  hash: string
  exp: number
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

function toRevocation (row: Pick<Selectable<RevocationsTable>, 'id' | 'hash' | 'expires_at'>): Revocation {
  return { id: Number(row.id), hash: row.hash, exp: Math.floor(Date.parse(row.expires_at) / 1000) }
}

export function createRevocationRepository (db: Kysely<Database>, options: { accessTokenTtl: number }) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  const listeners = new Set<() => void>()
  // Transactions that wrote a revocation: their commit wakes this process's feed.
  const revoking = new WeakSet<Transaction<Database>>()

  async function insert (trx: Transaction<Database>, entries: Array<{ hash: string, exp: number }>, now: Date) {
    if (entries.length === 0) return
    revoking.add(trx)
    if (postgres) await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.revocations'))`.execute(trx)
    const rows = entries.map(({ hash, exp }) => ({ hash, expires_at: iso(exp), created_at: now.toISOString() }))
    // The same token revoked twice is one event.
    await trx.insertInto('revocations').values(rows).onConflict((conflict) => conflict.column('hash').doNothing()).execute()
  }

  return {
    /**
     * Runs `work` in a transaction; once it has committed, wakes this process's feed if `work`
     * revoked anything (other replicas and processes find it by polling).
     */
    async transaction<T> (work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      let revoked = false
      const result = await db.transaction().execute(async (trx) => {
        const value = await work(trx)
        revoked = revoking.has(trx)
        return value
      })
      if (revoked) for (const listener of listeners) listener()
      return result
    },

    /**
     * Revokes every token whose `sid` is one of `sids` (sessions, client generations). The last such
     * token was signed at about `now`, so it is dead by now + ACCESS_TOKEN_TTL; CLOCK_SKEW_MARGIN
     * (60 s, the key ring's) covers a token signed just after, and the verifiers' clocks.
     */
    revokeSessions (trx: Transaction<Database>, sids: string[], now = new Date()) {
      const exp = Math.ceil(now.getTime() / 1000) + options.accessTokenTtl + CLOCK_SKEW_MARGIN
      return insert(trx, sids.map((sid) => ({ hash: revocationHash('sid', sid), exp })), now)
    },

    /** Revokes one access token until its own `exp`. */
    revokeToken (trx: Transaction<Database>, jti: string, exp: number, now = new Date()) {
      return insert(trx, [{ hash: revocationHash('jti', jti), exp }], now)
    },

    /** Whether a live revocation names this token's `sid` or `jti` (read from the table, not the feed). */
    async isRevoked (token: { sid?: string, jti: string }, now = new Date()): Promise<boolean> {
      const hashes = [revocationHash('jti', token.jti), ...(token.sid === undefined ? [] : [revocationHash('sid', token.sid)])]
      const row = await db.selectFrom('revocations').select('id').where('hash', 'in', hashes).where('expires_at', '>', now.toISOString()).executeTakeFirst()
      return row !== undefined
    },

    /** Calls `listener` after each local commit that revoked something. */
    onCommitted (listener: () => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    /** The newest id ever written (0 for none): purging keeps the newest row, so it is the high-water mark. */
    async newest (): Promise<number> {
      const row = await db.selectFrom('revocations').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst()
      return Number(row?.id ?? 0)
    },

    /** Up to `limit` revocations after id `after`, in id order, expired or not (the live tail). */
    async after (after: number, limit: number): Promise<Revocation[]> {
      const rows = await db.selectFrom('revocations').select(['id', 'hash', 'expires_at'])
        .where('id', '>', after).orderBy('id').limit(limit).execute()
      return rows.map(toRevocation)
    },

    /** Up to `limit` unexpired revocations with after < id <= upTo, in id order (a snapshot page). */
    async live (after: number, upTo: number, limit: number, now = new Date()): Promise<Revocation[]> {
      const rows = await db.selectFrom('revocations').select(['id', 'hash', 'expires_at'])
        .where('id', '>', after).where('id', '<=', upTo).where('expires_at', '>', now.toISOString())
        .orderBy('id').limit(limit).execute()
      return rows.map(toRevocation)
    },

    /** The `limit` newest revocations, newest first (the admin API's recent events). */
    async recent (limit: number): Promise<Array<{ id: number, hash: string, createdAt: string, expiresAt: string }>> {
      const rows = await db.selectFrom('revocations').selectAll().orderBy('id', 'desc').limit(limit).execute()
      return rows.map((row) => ({ id: Number(row.id), hash: row.hash, createdAt: row.created_at, expiresAt: row.expires_at }))
    },

    /** Deletes expired revocations but the newest row, which keeps the high-water mark of ids. */
    async purgeExpired (now = new Date()): Promise<number> {
      const result = await db.deleteFrom('revocations').where('expires_at', '<=', now.toISOString())
        .where('id', '<', (eb) => eb.selectFrom('revocations').select((inner) => inner.fn.max('id').as('newest')))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}

export type RevocationRepository = ReturnType<typeof createRevocationRepository>
