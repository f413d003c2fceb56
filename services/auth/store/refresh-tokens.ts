// Refresh tokens (RFC 9700 §4.14): one family per login, rotated on every use. A used token
// presented again means it was stolen or replayed, so the whole family is revoked. Two requests
// racing with one token are the same case: the conditional update lets exactly one win, and the
// loser's attempt revokes the family (the node-oidc-provider rule: we cannot tell which is honest).
import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import { newSecret, secretHash } from '../secrets.js'
import type { RevocationRepository } from './revocations.js'
import type { Database } from './tables.js'

export interface RefreshLifetimes {
  /** Seconds a login may last, whatever the refreshes. */
  absoluteTtl: number
  /** Seconds a refresh token stays usable unused. */
  idleTtl: number
}

export interface Session {
  familyId: string
  userId: string
  clientId: string
  scope: string
  /** The DPoP key (RFC 7638 thumbprint) the family's refresh tokens are bound to, if any. */
  dpopJkt?: string | null
}

export type Refused = 'unknown' | 'reused' | 'expired' | 'revoked' | 'user_disabled'
export type RotationOutcome = { ok: true, session: Session, refreshToken: string } | { ok: false, reason: Refused }

const iso = (date: Date) => date.toISOString()
const plus = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000)

export function createRefreshTokenRepository (db: Kysely<Database>, lifetimes: RefreshLifetimes, revocations: RevocationRepository) {
  async function issue (trx: Transaction<Database> | Kysely<Database>, familyId: string, familyEnd: string, now: Date) {
    const refreshToken = newSecret()
    const idleEnd = iso(plus(now, lifetimes.idleTtl))
    await trx.insertInto('refresh_tokens').values({
      token_hash: secretHash(refreshToken),
      family_id: familyId,
      created_at: iso(now),
      expires_at: idleEnd < familyEnd ? idleEnd : familyEnd,
      used_at: null
    }).execute()
    return refreshToken
  }

  /** Revokes the family and, in the same transaction, publishes its sid (the access tokens it issued). */
  async function revokeFamily (trx: Transaction<Database>, familyId: string, now: Date) {
    const { numUpdatedRows } = await trx.updateTable('refresh_families').set({ revoked_at: iso(now) })
      .where('id', '=', familyId).where('revoked_at', 'is', null).executeTakeFirst()
    if (numUpdatedRows > 0n) await revocations.revokeSessions(trx, [familyId], now)
  }

  async function open (trx: Transaction<Database>, session: Omit<Session, 'familyId'> & { browserSessionId?: string }, now: Date, withRefreshToken: boolean) {
    const familyId = randomUUID()
    const familyEnd = iso(plus(now, lifetimes.absoluteTtl))
    await trx.insertInto('refresh_families').values({
      id: familyId,
      user_id: session.userId,
      client_id: session.clientId,
      scope: session.scope,
      dpop_jkt: session.dpopJkt ?? null,
      created_at: iso(now),
      expires_at: familyEnd,
      revoked_at: null,
      browser_session_id: session.browserSessionId ?? null
    }).execute()
    return { sessionId: familyId, refreshToken: withRefreshToken ? await issue(trx, familyId, familyEnd, now) : undefined }
  }

  return {
    /** Opens a family for a new login: its id (the `sid` of its access tokens) and first refresh token. */
    async start (session: Omit<Session, 'familyId'>, now = new Date()): Promise<{ sessionId: string, refreshToken: string }> {
      return db.transaction().execute(async (trx) => {
        const { sessionId, refreshToken } = await open(trx, session, now, true)
        return { sessionId, refreshToken: refreshToken! }
      })
    },

    /**
     * Opens a family in `trx` for a browser sign-in's code: the refresh token only when asked
     * (offline_access); the family exists either way, so that revoking it revokes its access tokens.
     */
    open,

    /** Revokes, in `trx`, every family `browserSessionId` opened; publishes their sids. */
    async revokeOpenedBy (trx: Transaction<Database>, browserSessionId: string, now = new Date()): Promise<number> {
      const rows = await trx.updateTable('refresh_families').set({ revoked_at: iso(now) })
        .where('browser_session_id', '=', browserSessionId).where('revoked_at', 'is', null).returning('id').execute()
      await revocations.revokeSessions(trx, rows.map((row) => row.id), now)
      return rows.length
    },

    /** Revokes, in `trx`, one family by id (a reused authorization code's); publishes its sid. */
    revokeFamily,

    /** Marks `refreshToken` used and issues its successor, atomically; or says why not. */
    async rotate (refreshToken: string, now = new Date()): Promise<RotationOutcome> {
      const tokenHash = secretHash(refreshToken)
      return revocations.transaction(async (trx): Promise<RotationOutcome> => {
        // Claim first: of two requests racing with one token, exactly one updates the row; the
        // other then reads it as used, which is the reuse case below.
        const claim = await trx.updateTable('refresh_tokens').set({ used_at: iso(now) })
          .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', iso(now))
          .executeTakeFirst()
        const row = await trx.selectFrom('refresh_tokens')
          .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
          .innerJoin('users', 'users.id', 'refresh_families.user_id')
          .select(['refresh_tokens.used_at', 'refresh_families.id as family_id', 'refresh_families.user_id',
            'refresh_families.client_id', 'refresh_families.scope', 'refresh_families.expires_at as family_expires_at',
            'refresh_families.revoked_at', 'users.disabled'])
          .where('refresh_tokens.token_hash', '=', tokenHash)
          .executeTakeFirst()
        if (!row) return { ok: false, reason: 'unknown' }
        if (row.revoked_at !== null) return { ok: false, reason: 'revoked' }
        if (claim.numUpdatedRows === 0n) {
          if (row.used_at === null) return { ok: false, reason: 'expired' }
          await revokeFamily(trx, row.family_id, now)
          return { ok: false, reason: 'reused' }
        }
        if (row.disabled) {
          await revokeFamily(trx, row.family_id, now)
          return { ok: false, reason: 'user_disabled' }
        }
        const session = { familyId: row.family_id, userId: row.user_id, clientId: row.client_id, scope: row.scope }
        return { ok: true, session, refreshToken: await issue(trx, row.family_id, row.family_expires_at, now) }
      })
    },

    /** The client `refreshToken` was issued to; undefined when the token is unknown. */
    async clientOf (refreshToken: string): Promise<string | undefined> {
      return (await this.holderOf(refreshToken))?.clientId
    },

    /** The client `refreshToken` was issued to and the DPoP key it is bound to (null: none); undefined when the token is unknown. */
    async holderOf (refreshToken: string): Promise<{ clientId: string, dpopJkt: string | null } | undefined> {
      const row = await db.selectFrom('refresh_tokens')
        .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
        .select(['refresh_families.client_id', 'refresh_families.dpop_jkt'])
        .where('refresh_tokens.token_hash', '=', secretHash(refreshToken)).executeTakeFirst()
      return row && { clientId: row.client_id, dpopJkt: row.dpop_jkt }
    },

    /** Revokes the family `refreshToken` belongs to; its user's username, or undefined when the token is unknown. */
    async revoke (refreshToken: string, now = new Date()): Promise<string | undefined> {
      return revocations.transaction(async (trx) => {
        const row = await trx.selectFrom('refresh_tokens')
          .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
          .innerJoin('users', 'users.id', 'refresh_families.user_id')
          .select(['refresh_tokens.family_id', 'users.username'])
          .where('refresh_tokens.token_hash', '=', secretHash(refreshToken)).executeTakeFirst()
        if (row) await revokeFamily(trx, row.family_id, now)
        return row?.username
      })
    },

    /** Deletes families whose absolute lifetime has ended (their tokens go with them). */
    async purgeExpired (now = new Date()): Promise<number> {
      await db.deleteFrom('refresh_tokens').where('family_id', 'in',
        db.selectFrom('refresh_families').select('id').where('expires_at', '<=', iso(now))).execute()
      const result = await db.deleteFrom('refresh_families').where('expires_at', '<=', iso(now)).executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}

export type RefreshTokenRepository = ReturnType<typeof createRefreshTokenRepository>
