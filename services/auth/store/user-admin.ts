// What an operator does to a user: list and search, revoke every session or one, disable (which
// revokes them too), enable again, set a password, set roles, delete. Each session revoked is
// published (its sid) in the same transaction, so every access token the user holds stops working
// at the verifiers that follow the feed.
import { sql, type Kysely, type Transaction } from 'kysely'
import type { RevocationRepository } from './revocations.js'
import type { Database } from './tables.js'
import { normaliseUsername } from './users.js'

/** What the admin API shows of a user (never the password hash). */
export interface UserSummary {
  id: string
  username: string
  roles: string[]
  disabled: boolean
  passwordChangeRequired: boolean
  createdAt: string
}

export interface SessionSummary {
  id: string
  clientId: string
  scope: string
  createdAt: string
  expiresAt: string
}

const roleList = (text: string) => text.split(' ').filter(Boolean)

export function createUserAdmin (db: Kysely<Database>, revocations: RevocationRepository) {
  /** Revokes the user's sessions not revoked yet (or only `sessionId`); returns how many. */
  async function revokeAll (trx: Transaction<Database>, userId: string, now: Date, sessionId?: string): Promise<number> {
    let update = trx.updateTable('refresh_families').set({ revoked_at: now.toISOString() })
      .where('user_id', '=', userId).where('revoked_at', 'is', null)
    if (sessionId !== undefined) update = update.where('id', '=', sessionId)
    const rows = await update.returning('id').execute()
    await revocations.revokeSessions(trx, rows.map((row) => row.id), now)
    return rows.length
  }

  /** Flags the user (unless `disabled` is undefined) and revokes its sessions; undefined for an unknown user. */
  async function change (username: string, disabled: 0 | 1 | undefined, now: Date): Promise<{ sessions: number } | undefined> {
    return revocations.transaction(async (trx) => {
      // Write first: the row lock (PostgreSQL) or the write lock (SQLite) orders concurrent changes.
      const user = await trx.updateTable('users').set((eb) => ({ disabled: disabled ?? eb.ref('disabled') }))
        .where('username', '=', normaliseUsername(username)).returning('id').executeTakeFirst()
      if (!user) return undefined
      return { sessions: disabled === 0 ? 0 : await revokeAll(trx, user.id, now) }
    })
  }

  return {
    /** Ends every session of the user (its access tokens included); it may log in again. */
    revokeSessions: (username: string, now = new Date()) => change(username, undefined, now),
    /** The user can no longer log in or refresh, and every session is ended. */
    disable: (username: string, now = new Date()) => change(username, 1, now),
    /** The user may log in again (ended sessions stay ended). */
    enable: (username: string, now = new Date()) => change(username, 0, now),

    /** Ends one session of the user; false when the user has no such live session. */
    async revokeSession (username: string, sessionId: string, now = new Date()): Promise<boolean> {
      return revocations.transaction(async (trx) => {
        const user = await trx.selectFrom('users').select('id').where('username', '=', normaliseUsername(username)).executeTakeFirst()
        return user !== undefined && await revokeAll(trx, user.id, now, sessionId) === 1
      })
    },

    /**
     * A new password hash (`temporary`: the next sign-in must change it); every session ends, as
     * whoever held the old password may hold one. Undefined for an unknown user.
     */
    async setPassword (username: string, passwordHash: string, temporary: boolean, now = new Date()): Promise<{ sessions: number } | undefined> {
      return revocations.transaction(async (trx) => {
        const user = await trx.updateTable('users').set({ password_hash: passwordHash, password_change_required: temporary ? 1 : 0 })
          .where('username', '=', normaliseUsername(username)).returning('id').executeTakeFirst()
        if (!user) return undefined
        return { sessions: await revokeAll(trx, user.id, now) }
      })
    },

    /** Replaces the user's roles; false for an unknown user. Tokens issued from now on carry them. */
    async setRoles (username: string, roles: string[]): Promise<boolean> {
      const { numUpdatedRows } = await db.updateTable('users').set({ roles: [...new Set(roles)].join(' ') })
        .where('username', '=', normaliseUsername(username)).executeTakeFirst()
      return numUpdatedRows > 0n
    },

    /** Deletes the user after revoking every session (their rows go with the user); false for an unknown user. */
    async remove (username: string, now = new Date()): Promise<boolean> {
      return revocations.transaction(async (trx) => {
        const user = await trx.deleteFrom('users').where('username', '=', normaliseUsername(username)).returning('id').executeTakeFirst()
        if (!user) return false
        // The families are deleted with the user (cascade on PostgreSQL; here explicitly, for SQLite
        // without foreign keys), after their sids are published.
        const families = await trx.selectFrom('refresh_families').select('id').where('user_id', '=', user.id).where('revoked_at', 'is', null).execute()
        await revocations.revokeSessions(trx, families.map((row) => row.id), now)
        await trx.deleteFrom('refresh_tokens').where('family_id', 'in', trx.selectFrom('refresh_families').select('id').where('user_id', '=', user.id)).execute()
        await trx.deleteFrom('refresh_families').where('user_id', '=', user.id).execute()
        return true
      })
    },

    /** Users whose username starts with `search` (normalised), in username order, after `after`. */
    async list (query: { search?: string, after?: string, limit: number }): Promise<UserSummary[]> {
      let select = db.selectFrom('users').select(['id', 'username', 'roles', 'disabled', 'password_change_required', 'created_at'])
      if (query.search) {
        // The search's own % and _ are escaped: they match themselves, never widen it.
        const prefix = normaliseUsername(query.search).replace(/[\\%_]/g, (char) => `\\${char}`)
        select = select.where(sql<boolean>`username like ${`${prefix}%`} escape '\\'`)
      }
      if (query.after !== undefined) select = select.where('username', '>', query.after)
      const rows = await select.orderBy('username').limit(query.limit).execute()
      return rows.map((row) => ({
        id: row.id,
        username: row.username,
        roles: roleList(row.roles),
        disabled: row.disabled === 1,
        passwordChangeRequired: row.password_change_required === 1,
        createdAt: row.created_at
      }))
    },

    /** The user's live sessions (not revoked, not ended), newest first; undefined for an unknown user. */
    async sessions (username: string, now = new Date()): Promise<SessionSummary[] | undefined> {
      const user = await db.selectFrom('users').select('id').where('username', '=', normaliseUsername(username)).executeTakeFirst()
      if (!user) return undefined
      const rows = await db.selectFrom('refresh_families').select(['id', 'client_id', 'scope', 'created_at', 'expires_at'])
        .where('user_id', '=', user.id).where('revoked_at', 'is', null).where('expires_at', '>', now.toISOString())
        .orderBy('created_at', 'desc').execute()
      return rows.map((row) => ({ id: row.id, clientId: row.client_id, scope: row.scope, createdAt: row.created_at, expiresAt: row.expires_at }))
    }
  }
}

export type UserAdmin = ReturnType<typeof createUserAdmin>
