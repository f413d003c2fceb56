// `npm run user:unlock`: one row per unlock, which every auth replica reads (login-unlocks
// plugin, unlocks.ts) to forget that username's throttling state held in its own process. The
// CLI clears Redis itself. A row is only worth reading for a moment; it is purged after a day.
// (On PostgreSQL two unlocks committed out of id order could let a replica skip the earlier one:
// with Redis that changes nothing, without it a second unlock does it.)
import type { Kysely } from 'kysely'
import type { Database } from './tables.js'
import { normaliseUsername } from './users.js'

const KEEP_MS = 86_400_000

export function createLoginUnlockRepository (db: Kysely<Database>) {
  return {
    async record (username: string, now = new Date()): Promise<void> {
      await db.insertInto('login_unlocks').values({ username: normaliseUsername(username), created_at: now.toISOString() }).execute()
    },

    /** The id of the newest unlock, 0 for none. */
    async newest (): Promise<number> {
      const row = await db.selectFrom('login_unlocks').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst()
      return Number(row?.id ?? 0)
    },

    /** The unlocks after `cursor`, in id order. */
    async after (cursor: number): Promise<Array<{ id: number, username: string }>> {
      const rows = await db.selectFrom('login_unlocks').select(['id', 'username']).where('id', '>', cursor).orderBy('id').execute()
      return rows.map((row) => ({ id: Number(row.id), username: row.username }))
    },

    /** Deletes unlocks older than a day; how many. */
    async purgeExpired (now = new Date()): Promise<number> {
      const result = await db.deleteFrom('login_unlocks').where('created_at', '<', new Date(now.getTime() - KEEP_MS).toISOString()).executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}

export type LoginUnlockRepository = ReturnType<typeof createLoginUnlockRepository>
