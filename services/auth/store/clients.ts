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
/** A redirect URI browser sign-in could not safely send a code to. */
export const InvalidRedirectUriError = createError<[string]>('AUTH_CLIENT_REDIRECT_URI_INVALID', '%s', 400)

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

/** Why `uri` cannot be a redirect URI (or post-logout redirect URI), or undefined. */
export function redirectUriProblem (uri: string): string | undefined {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return `${uri} is not an absolute URL`
  }
  if (uri.length > 512) return 'a redirect URI is at most 512 characters'
  if (/\s/.test(uri) || uri.includes('#')) return `${uri}: a redirect URI has no spaces and no fragment (RFC 6749 §3.1.2)`
  if (url.username !== '' || url.password !== '') return `${uri}: a redirect URI carries no user name or password`
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && isLoopback(url)) return undefined
  return `${uri}: a redirect URI is https, or http on the loopback address 127.0.0.1 or [::1] (RFC 8252 §7.3)`
}

const isLoopback = (url: URL) => url.hostname === '127.0.0.1' || url.hostname === '[::1]'

/** Why this list cannot be a client's redirect URIs, or undefined. */
export function redirectUrisProblem (uris: string[]): string | undefined {
  for (const uri of uris) {
    const problem = redirectUriProblem(uri)
    if (problem) return problem
  }
  return undefined
}

/**
 * Whether `presented` is one of `registered`: the exact string (RFC 9700 §2.1), except that a
 * public client's http loopback URI may come with any port (RFC 8252 §7.3: native apps listen
 * on a port the system gives them).
 */
export function redirectUriRegistered (registered: string, presented: string | undefined, isPublic: boolean): boolean {
  if (presented === undefined) return false
  const list = registered.split(' ').filter(Boolean)
  if (list.includes(presented)) return true
  if (!isPublic) return false
  // The strings equal once the port is cut out of both: http://127.0.0.1:<any port><the same rest>.
  const portless = (uri: string) => LOOPBACK_HTTP.exec(uri)?.slice(1, 3).join('')
  const presentedPortless = portless(presented)
  return presentedPortless !== undefined && list.some((uri) => portless(uri) === presentedPortless)
}

const LOOPBACK_HTTP = /^(http:\/\/(?:127\.0\.0\.1|\[::1\]))(?::\d{1,5})?(\/.*)$/s

export type Client = Omit<Selectable<ClientsTable>, 'secret_hash' | 'disabled'>

export interface NewClient {
  clientId: string
  name: string
  scopes: string[]
  audiences: string[]
  /** Browser sign-in (authorization code): where codes may be sent, and where sign-out may return. */
  redirectUris?: string[]
  postLogoutRedirectUris?: string[]
  /** A public client: no secret (PKCE only); `create` returns no secret. */
  public?: boolean
}

export function createClientRepository (db: Kysely<Database>) {
  return {
    /** Creates a client; returns its secret (none for a public client), which exists nowhere else from then on. */
    async create<Input extends NewClient> (input: Input): Promise<{ clientSecret: Input['public'] extends true ? undefined : string }> {
      const idProblem = clientIdProblem(input.clientId)
      if (idProblem) throw new InvalidClientIdError(idProblem)
      const scopeProblem = scopesProblem(input.scopes) ?? audiencesProblem(input.audiences)
      if (scopeProblem) throw new InvalidClientScopesError(scopeProblem)
      const redirectUris = input.redirectUris ?? []
      const postLogoutRedirectUris = input.postLogoutRedirectUris ?? []
      const uriProblem = redirectUrisProblem([...redirectUris, ...postLogoutRedirectUris]) ??
        (input.public && redirectUris.length === 0 ? 'a public client needs at least one redirect URI' : undefined)
      if (uriProblem) throw new InvalidRedirectUriError(uriProblem)
      // A public client gets a secret nobody ever sees: no secret can authenticate it.
      const clientSecret = newSecret()
      await db.insertInto('clients').values({
        client_id: input.clientId,
        name: input.name,
        secret_hash: secretHash(clientSecret),
        scopes: input.scopes.join(' '),
        audiences: input.audiences.join(' '),
        generation: randomUUID(),
        created_at: new Date().toISOString(),
        redirect_uris: redirectUris.join(' '),
        post_logout_redirect_uris: postLogoutRedirectUris.join(' '),
        public: input.public ? 1 : 0
      }).execute()
      return { clientSecret: (input.public ? undefined : clientSecret) as Input['public'] extends true ? undefined : string }
    },

    /** An enabled client by id (for browser sign-in, before any authentication), or undefined. */
    async find (clientId: string): Promise<Client | undefined> {
      const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
      if (!row || row.disabled || clientIdProblem(row.client_id)) return undefined
      const { secret_hash: ignored, disabled, ...client } = row
      return client
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
