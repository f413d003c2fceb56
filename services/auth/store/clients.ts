// Machine clients (client_credentials): the secret is shown once at creation and stored as a hash.
// Disabling, deleting and rotating a client are in client-admin.ts.
import { randomUUID } from 'node:crypto'
import createError from '@fastify/error'
import type { Kysely, Selectable } from 'kysely'
import { newSecret, secretHash, secretMatches } from '../secrets.js'
import type { ClientsTable, Database } from './tables.js'

export const InvalidClientIdError = createError<[string]>('AUTH_CLIENT_ID_INVALID', '%s', 400)
/** Scopes or audiences no token request could ever be granted. */
export const InvalidClientScopesError = createError<[string]>('AUTH_CLIENT_SCOPES_INVALID', '%s', 400)

const CLIENT_ID_PATTERN = /^[\w.:-]{1,128}$/
// User ids are UUIDs; a client token's `sub` is its client id. Refusing UUID-shaped client ids keeps
// the two apart (RFC 9068 §5), so a resource service can never mistake a client for a user.
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); audiences are held the same way.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
/** The longest `scope` and `audience` POST /oauth/token accepts. */
export const MAX_SCOPE_LENGTH = 1024
export const MAX_AUDIENCE_LENGTH = 256

/** Why `scopes` cannot be a client's scopes (what /oauth/token could ever grant), or undefined. */
export function scopesProblem (scopes: string[]): string | undefined {
  if (scopes.length === 0) return 'a client needs at least one scope (it could never get a token)'
  if (!scopes.every((scope) => SCOPE_TOKEN.test(scope))) return 'a scope is printable ASCII without spaces, " or \\ (RFC 6749 §3.3)'
  if (scopes.join(' ').length > MAX_SCOPE_LENGTH) return `a client's scopes are at most ${MAX_SCOPE_LENGTH} characters together`
  return undefined
}

/** Why `audiences` cannot be a client's audiences, or undefined. */
export function audiencesProblem (audiences: string[]): string | undefined {
  if (audiences.length === 0) return 'a client needs at least one audience'
  if (!audiences.every((audience) => SCOPE_TOKEN.test(audience) && audience.length <= MAX_AUDIENCE_LENGTH)) {
    return `an audience is 1 to ${MAX_AUDIENCE_LENGTH} printable ASCII characters without spaces, " or \\`
  }
  return undefined
}

/** Why `clientId` cannot be a client's id, or undefined when it can. */
export function clientIdProblem (clientId: string): string | undefined {
  if (!CLIENT_ID_PATTERN.test(clientId)) return 'a client id is 1 to 128 letters, digits, _ . : or -'
  if (UUID_SHAPE.test(clientId)) return 'a client id cannot be shaped like a UUID: user ids are UUIDs, and a client token\'s sub is its client id'
  return undefined
}

export type Client = Omit<Selectable<ClientsTable>, 'secret_hash' | 'disabled'>

export interface NewClient {
  clientId: string
  name: string
  scopes: string[]
  audiences: string[]
  /** Every token request must carry a DPoP proof. */
  dpopRequired?: boolean
}

export function createClientRepository (db: Kysely<Database>) {
  return {
    /** Creates a client; returns its secret, which exists nowhere else from then on. */
    async create (input: NewClient): Promise<{ clientSecret: string }> {
      const idProblem = clientIdProblem(input.clientId)
      if (idProblem) throw new InvalidClientIdError(idProblem)
      const scopeProblem = scopesProblem(input.scopes) ?? audiencesProblem(input.audiences)
      if (scopeProblem) throw new InvalidClientScopesError(scopeProblem)
      const clientSecret = newSecret()
      await db.insertInto('clients').values({
        client_id: input.clientId,
        name: input.name,
        secret_hash: secretHash(clientSecret),
        scopes: input.scopes.join(' '),
        audiences: input.audiences.join(' '),
        generation: randomUUID(),
        dpop_required: input.dpopRequired ? 1 : 0,
        created_at: new Date().toISOString()
      }).execute()
      return { clientSecret }
    },

    /** The client if `clientSecret` is its secret (compared in constant time) and it is enabled, else undefined. */
    async authenticate (clientId: string, clientSecret: string): Promise<Client | undefined> {
      const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
      // Hash even for an unknown client, so both failures cost the same.
      const matches = secretMatches(clientSecret, row?.secret_hash ?? secretHash(''))
      // A UUID-shaped id from before that rule never gets a token: its sub could be a user's.
      if (!row || !matches || row.disabled || clientIdProblem(row.client_id)) return undefined
      const { secret_hash: ignored, disabled, ...client } = row
      return client
    }
  }
}

export type ClientRepository = ReturnType<typeof createClientRepository>
