// What an operator does to a user's access: revoke every session, disable (which does that too),
// enable again. Each session revoked is published (its sid) in the same transaction, so every
// access token the user holds stops working at the verifiers that follow the feed.
import type { Kysely, Transaction } from 'kysely'
import type { RevocationRepository } from './revocations.js'
import type { Database } from './tables.js'
import { normaliseUsername } from './users.js'

export function createUserAdmin (db: Kysely<Database>, revocations: RevocationRepository) {
  /** Revokes the user's sessions not revoked yet; returns how many. */
  async function revokeAll (trx: Transaction<Database>, userId: string, now: Date): Promise<number> {
    const rows = await trx.updateTable('refresh_families').set({ revoked_at: now.toISOString() })
      .where('user_id', '=', userId).where('revoked_at', 'is', null).returning('id').execute()
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
    enable: (username: string, now = new Date()) => change(username, 0, now)
  }
}

export type UserAdmin = ReturnType<typeof createUserAdmin>
