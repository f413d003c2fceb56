// What an operator does to a machine client after creating it: disable, enable, delete, rotate its
// secret. Each one that ends the client's current tokens revokes its credential generation (the
// `sid` of those tokens) in the same transaction; enabling and rotating start a new generation,
// so tokens issued from then on are not caught by the old revocation.
//
// Each transaction writes first (an UPDATE or DELETE that returns the row): on PostgreSQL that
// locks the row, so two operators acting at once are serialized, and on SQLite it takes the write
// lock before anything is read.
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { newSecret, secretHash } from '../secrets.js'
import type { RevocationRepository } from './revocations.js'
import type { Database } from './tables.js'

/** What the admin API shows of a client (never its secret hash or generation). */
export interface ClientSummary {
  clientId: string
  name: string
  scopes: string[]
  audiences: string[]
  redirectUris: string[]
  public: boolean
  disabled: boolean
  createdAt: string
}

/** `unknown`: no such client; `unchanged`: it already was in that state. */
export type ClientChange = 'done' | 'unchanged' | 'unknown'

export function createClientAdmin (db: Kysely<Database>, revocations: RevocationRepository) {
  const exists = async (clientId: string) =>
    (await db.selectFrom('clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst()) !== undefined

  /** The change if `work` found the client, else whether it exists at all. */
  async function outcome (changed: boolean, clientId: string): Promise<ClientChange> {
    if (changed) return 'done'
    return await exists(clientId) ? 'unchanged' : 'unknown'
  }

  return {
    /** Whether a client of this id exists (enabled or not). */
    exists,

    /** Clients whose id starts with `search`, in id order, after `after`. */
    async list (query: { search?: string, after?: string, limit: number }): Promise<ClientSummary[]> {
      let select = db.selectFrom('clients').select(['client_id', 'name', 'scopes', 'audiences', 'redirect_uris', 'public', 'disabled', 'created_at'])
      if (query.search) {
        // The search's own % and _ are escaped: they match themselves, never widen it.
        const prefix = query.search.replace(/[\\%_]/g, (char) => `\\${char}`)
        select = select.where(sql<boolean>`client_id like ${`${prefix}%`} escape '\\'`)
      }
      if (query.after !== undefined) select = select.where('client_id', '>', query.after)
      const rows = await select.orderBy('client_id').limit(query.limit).execute()
      return rows.map((row) => ({
        clientId: row.client_id,
        name: row.name,
        scopes: row.scopes.split(' ').filter(Boolean),
        audiences: row.audiences.split(' ').filter(Boolean),
        redirectUris: row.redirect_uris.split(' ').filter(Boolean),
        public: row.public === 1,
        disabled: row.disabled === 1,
        createdAt: row.created_at
      }))
    },

    /** The client can no longer get tokens, and the tokens it holds are revoked. */
    async disable (clientId: string): Promise<ClientChange> {
      const changed = await revocations.transaction(async (trx) => {
        const row = await trx.updateTable('clients').set({ disabled: 1 })
          .where('client_id', '=', clientId).where('disabled', '=', 0).returning('generation').executeTakeFirst()
        if (row) await revocations.revokeSessions(trx, [row.generation])
        return row !== undefined
      })
      return outcome(changed, clientId)
    },

    /** The client can get tokens again, under a new generation (its old tokens stay revoked). */
    async enable (clientId: string): Promise<ClientChange> {
      const { numUpdatedRows } = await db.updateTable('clients').set({ disabled: 0, generation: randomUUID() })
        .where('client_id', '=', clientId).where('disabled', '=', 1).executeTakeFirst()
      return outcome(numUpdatedRows > 0n, clientId)
    },

    /** Deletes the client and revokes its tokens; false when there was no such client. */
    async remove (clientId: string): Promise<boolean> {
      return revocations.transaction(async (trx) => {
        const row = await trx.deleteFrom('clients').where('client_id', '=', clientId).returning('generation').executeTakeFirst()
        if (row) await revocations.revokeSessions(trx, [row.generation])
        return row !== undefined
      })
    },

    /**
     * A new secret (returned once, stored as a hash) and a new generation; the old secret stops
     * working and the tokens it obtained are revoked. Undefined when there is no such client.
     */
    async rotateSecret (clientId: string): Promise<{ clientSecret: string } | undefined> {
      const clientSecret = newSecret()
      return revocations.transaction(async (trx) => {
        // A no-op update that locks the row and returns the generation being replaced.
        const row = await trx.updateTable('clients').set((eb) => ({ generation: eb.ref('generation') }))
          .where('client_id', '=', clientId).returning('generation').executeTakeFirst()
        if (!row) return undefined
        await trx.updateTable('clients').set({ secret_hash: secretHash(clientSecret), generation: randomUUID() })
          .where('client_id', '=', clientId).execute()
        await revocations.revokeSessions(trx, [row.generation])
        return { clientSecret }
      })
    }
  }
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>
