// Browser sign-in state, in the database so that every auth replica sees it: sign-in attempts (an
// authorization request waiting for the login form), browser sessions (single sign-on) and
// authorization codes. Each is found by the SHA-256 of a random secret the browser or the client
// holds; the secrets themselves are never stored.
import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { newSecret, secretHash } from '../secrets.js'
import type { RefreshTokenRepository } from './refresh-tokens.js'
import type { RevocationRepository } from './revocations.js'
import type { AuthorizationCodesTable, BrowserSessionsTable, Database } from './tables.js'

export interface BrowserSessionLifetimes {
  /** Seconds a browser session lasts unused. */
  idleTtl: number
  /** Seconds a browser session lasts at most, used or not. */
  absoluteTtl: number
}

/** Seconds an authorization code can be redeemed (oidc-provider's default; RFC 6749 §4.1.2: at most 10 minutes). */
export const CODE_TTL = 60
/** Seconds the login form of one sign-in attempt stays usable. */
export const ATTEMPT_TTL = 600

export type BrowserSession = Pick<Selectable<BrowserSessionsTable>, 'id' | 'user_id' | 'auth_time'>
export type AuthorizationCode = Selectable<AuthorizationCodesTable>

export type NewCode = Omit<AuthorizationCode, 'code_hash' | 'created_at' | 'expires_at' | 'consumed_at' | 'family_id'>

/**
 * What a redemption found: `ok` with the code (now consumed) and the family it opened, or why
 * not. `reused`: it had been redeemed before, and what that redemption issued is now revoked.
 */
export type Redemption =
  | { ok: true, code: AuthorizationCode, familyId: string, refreshToken: string | undefined }
  | { ok: false, reason: 'unknown' | 'reused' | 'expired' | 'mismatch' }

const iso = (date: Date) => date.toISOString()
const plus = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000)

export function createSignInRepository (db: Kysely<Database>, lifetimes: BrowserSessionLifetimes, refreshTokens: RefreshTokenRepository, revocations: RevocationRepository) {
  return {
    attempts: {
      /** Saves a checked authorization request; returns the secret of the attempt's cookie. */
      async create (request: unknown, now = new Date()): Promise<string> {
        const token = newSecret()
        await db.insertInto('sign_in_attempts').values({
          token_hash: secretHash(token), request: JSON.stringify(request), created_at: iso(now), expires_at: iso(plus(now, ATTEMPT_TTL))
        }).execute()
        return token
      },

      /** The request of an unexpired attempt, or undefined. */
      async find (token: string, now = new Date()): Promise<unknown> {
        const row = await db.selectFrom('sign_in_attempts').select('request')
          .where('token_hash', '=', secretHash(token)).where('expires_at', '>', iso(now)).executeTakeFirst()
        return row && JSON.parse(row.request)
      },

      /** Ends an attempt (it succeeded); true when it still existed, so one attempt signs in once. */
      async finish (token: string): Promise<boolean> {
        const result = await db.deleteFrom('sign_in_attempts').where('token_hash', '=', secretHash(token)).executeTakeFirst()
        return result.numDeletedRows > 0n
      }
    },

    sessions: {
      /** A new browser session (a new id and secret at every sign-in: no fixation); returns its cookie secret. */
      async start (userId: string, now = new Date()): Promise<{ session: BrowserSession, token: string }> {
        const token = newSecret()
        const authTime = Math.floor(now.getTime() / 1000)
        const expires = plus(now, lifetimes.absoluteTtl)
        const idle = plus(now, Math.min(lifetimes.idleTtl, lifetimes.absoluteTtl))
        const session = { id: randomUUID(), user_id: userId, auth_time: authTime }
        await db.insertInto('browser_sessions').values({
          ...session, token_hash: secretHash(token), created_at: iso(now), idle_expires_at: iso(idle), expires_at: iso(expires)
        }).execute()
        return { session, token }
      },

      /** The live session of this cookie secret (its user enabled), its idle end moved forward; or undefined. */
      async use (token: string, now = new Date()): Promise<BrowserSession | undefined> {
        const row = await db.selectFrom('browser_sessions').innerJoin('users', 'users.id', 'browser_sessions.user_id')
          .select(['browser_sessions.id', 'browser_sessions.user_id', 'browser_sessions.auth_time', 'browser_sessions.expires_at', 'users.disabled'])
          .where('browser_sessions.token_hash', '=', secretHash(token))
          .where('browser_sessions.idle_expires_at', '>', iso(now)).where('browser_sessions.expires_at', '>', iso(now))
          .executeTakeFirst()
        if (!row || row.disabled) return undefined
        const idle = iso(plus(now, lifetimes.idleTtl))
        await db.updateTable('browser_sessions').set({ idle_expires_at: idle < row.expires_at ? idle : row.expires_at })
          .where('id', '=', row.id).execute()
        return { id: row.id, user_id: row.user_id, auth_time: row.auth_time }
      },

      /** The session with this id (the ID token's sid), live or not yet purged; undefined when unknown. */
      async byId (id: string): Promise<BrowserSession | undefined> {
        return db.selectFrom('browser_sessions').select(['id', 'user_id', 'auth_time']).where('id', '=', id).executeTakeFirst()
      },

      /**
       * Ends a session: deletes it and revokes every refresh family it opened (their access tokens
       * through the revocation feed), in one transaction. Returns the number of families revoked.
       */
      async end (id: string, now = new Date()): Promise<number> {
        return revocations.transaction(async (trx) => {
          await trx.deleteFrom('browser_sessions').where('id', '=', id).execute()
          return refreshTokens.revokeOpenedBy(trx, id, now)
        })
      }
    },

    codes: {
      /** A new code for `code` (bound to its client, redirect URI, challenge, user, nonce and scope); returns the code. */
      async issue (code: NewCode, now = new Date()): Promise<string> {
        const secret = newSecret()
        await db.insertInto('authorization_codes').values({
          ...code, code_hash: secretHash(secret), created_at: iso(now), expires_at: iso(plus(now, CODE_TTL)), consumed_at: null, family_id: null
        }).execute()
        return secret
      },

      /**
       * Redeems a code once, atomically on SQLite and PostgreSQL: the conditional UPDATE lets one
       * redemption win, and in the same transaction opens the family it issues from. A second
       * redemption waits for that commit (the row is locked), then revokes that family.
       * `check` says whether the code may be redeemed by this request (client, redirect URI,
       * verifier); a code that fails it is spent all the same.
       */
      async redeem (secret: string, check: (code: AuthorizationCode) => boolean, now = new Date()): Promise<Redemption> {
        const codeHash = secretHash(secret)
        return revocations.transaction(async (trx): Promise<Redemption> => {
          const code = await trx.updateTable('authorization_codes').set({ consumed_at: iso(now) })
            .where('code_hash', '=', codeHash).where('consumed_at', 'is', null).returningAll().executeTakeFirst()
          if (!code) {
            const spent = await trx.selectFrom('authorization_codes').select(['family_id', 'expires_at']).where('code_hash', '=', codeHash).executeTakeFirst()
            if (!spent) return { ok: false, reason: 'unknown' }
            if (spent.family_id !== null) await refreshTokens.revokeFamily(trx, spent.family_id, now)
            return { ok: false, reason: 'reused' }
          }
          if (code.expires_at <= iso(now)) return { ok: false, reason: 'expired' }
          if (!check(code)) return { ok: false, reason: 'mismatch' }
          const { sessionId, refreshToken } = await refreshTokens.open(trx, {
            userId: code.user_id, clientId: code.client_id, scope: code.scope, browserSessionId: code.browser_session_id
          }, now, code.scope.split(' ').includes('offline_access'))
          await trx.updateTable('authorization_codes').set({ family_id: sessionId }).where('code_hash', '=', codeHash).execute()
          return { ok: true, code, familyId: sessionId, refreshToken }
        })
      }
    },

    /** Deletes expired attempts and sessions, and codes 10 minutes after they expired (a reuse is still caught meanwhile). */
    async purgeExpired (now = new Date()): Promise<number> {
      const counts = await Promise.all([
        db.deleteFrom('sign_in_attempts').where('expires_at', '<=', iso(now)).executeTakeFirst(),
        db.deleteFrom('authorization_codes').where('expires_at', '<=', iso(plus(now, -ATTEMPT_TTL))).executeTakeFirst(),
        db.deleteFrom('browser_sessions').where((eb) => eb.or([eb('expires_at', '<=', iso(now)), eb('idle_expires_at', '<=', iso(now))])).executeTakeFirst()
      ])
      return counts.reduce((sum, result) => sum + Number(result.numDeletedRows), 0)
    }
  }
}

export type SignInRepository = ReturnType<typeof createSignInRepository>
