// Machine clients (client_credentials): the secret is shown once at creation and stored as a hash.
// Disabling, deleting and rotating a client are in client-admin.ts.
import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { newSecret, secretHash, secretMatches } from '../secrets.js'
import type { ClientsTable, Database } from './tables.js'

export type Client = Omit<Selectable<ClientsTable>, 'secret_hash' | 'disabled'>

export interface NewClient {
  clientId: string
  name: string
  scopes: string[]
  audiences: string[]
}

export function createClientRepository (db: Kysely<Database>) {
  return {
    /** Creates a client; returns its secret, which exists nowhere else from then on. */
    async create (input: NewClient): Promise<{ clientSecret: string }> {
      const clientSecret = newSecret()
      await db.insertInto('clients').values({
        client_id: input.clientId,
        name: input.name,
        secret_hash: secretHash(clientSecret),
        scopes: input.scopes.join(' '),
        audiences: input.audiences.join(' '),
        generation: randomUUID(),
        created_at: new Date().toISOString()
      }).execute()
      return { clientSecret }
    },

    /** The client if `clientSecret` is its secret (compared in constant time) and it is enabled, else undefined. */
    async authenticate (clientId: string, clientSecret: string): Promise<Client | undefined> {
      const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
      // Hash even for an unknown client, so both failures cost the same.
      const matches = secretMatches(clientSecret, row?.secret_hash ?? secretHash(''))
      if (!row || !matches || row.disabled) return undefined
      const { secret_hash: ignored, disabled, ...client } = row
      return client
    }
  }
}

export type ClientRepository = ReturnType<typeof createClientRepository>
