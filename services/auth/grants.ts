// What each grant hands out: the token pair of a login or a refresh, and the access token of a
// machine client. Shared by /auth/* and /oauth/token so both follow the same rules.
import type { FastifyInstance } from 'fastify'
import type { Client } from './store/clients.js'
import type { Refused } from './store/refresh-tokens.js'
import type { User } from './store/users.js'
import type { TokenResponse } from './schemas.js'

export interface GrantOptions {
  /** client_id and scope of the tokens a password login issues. */
  loginClientId: string
  loginScope: string
}

export type GrantResult = { ok: true, tokens: TokenResponse } | { ok: false, reason: Refused | 'other_client' | 'invalid_scope' | 'invalid_target' }

const scopesOf = (text: string) => text.split(' ').filter(Boolean)

export function createGrants (fastify: FastifyInstance, options: GrantOptions) {
  const { issuer, store } = fastify

  /** `sessionId` (the refresh family) is the token's `sid`: revoking the session revokes the token. */
  function userAccessToken (user: User, clientId: string, scope: string, sessionId: string) {
    const roles = scopesOf(user.roles)
    return issuer.signAccessToken({
      sub: user.id, client_id: clientId, scope, username: user.username, sid: sessionId, ...(roles.length > 0 && { roles })
    })
  }

  return {
    /** The public client of first-party logins: its refresh tokens need no client authentication. */
    loginClientId: options.loginClientId,

    /** A new session for a user who just proved their password. */
    async login (user: User): Promise<TokenResponse> {
      // The session first: its id is the access token's sid.
      const { sessionId, refreshToken } = await store.refreshTokens.start({ userId: user.id, clientId: options.loginClientId, scope: options.loginScope })
      const { accessToken, expiresIn } = await userAccessToken(user, options.loginClientId, options.loginScope, sessionId)
      fastify.metrics.tokensIssued.inc({ grant: 'password' })
      return { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refreshToken }
    },

    /**
     * Rotates a refresh token of `clientId` (by default the login client): a new pair, or the reason
     * it is refused. Another client's token is refused untouched (RFC 6749 §6: only the client it was
     * issued to may use it), so presenting it neither spends it nor revokes its session.
     */
    async refresh (refreshToken: string, clientId = options.loginClientId): Promise<GrantResult> {
      const owner = await store.refreshTokens.clientOf(refreshToken)
      if (owner !== undefined && owner !== clientId) return { ok: false, reason: 'other_client' }
      const outcome = await store.refreshTokens.rotate(refreshToken)
      if (!outcome.ok) return outcome
      const user = await store.users.findById(outcome.session.userId)
      // The join in rotate() found this user a moment ago; cascade deletes remove their families.
      const { accessToken, expiresIn } = await userAccessToken(user!, outcome.session.clientId, outcome.session.scope, outcome.session.familyId)
      fastify.metrics.tokensIssued.inc({ grant: 'refresh_token' })
      return {
        ok: true,
        tokens: { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, refresh_token: outcome.refreshToken }
      }
    },

    /**
     * client_credentials (RFC 6749 §4.4, RFC 9068 §2.2: sub and client_id are the client).
     * No scope asked: every scope of the client. Asked: a subset of the client's, or invalid_scope.
     */
    async clientCredentials (client: Client, requestedScope: string | undefined, audience: string | undefined): Promise<GrantResult> {
      const allowed = scopesOf(client.scopes)
      const requested = requestedScope === undefined ? allowed : scopesOf(requestedScope)
      if (requested.length === 0 || !requested.every((scope) => allowed.includes(scope))) return { ok: false, reason: 'invalid_scope' }
      if (audience !== undefined && !scopesOf(client.audiences).includes(audience)) return { ok: false, reason: 'invalid_target' }
      const scope = requested.join(' ')
      // sid: the client's credential generation, which disabling, deleting or rotating it revokes.
      const { accessToken, expiresIn } = await issuer.signAccessToken({
        sub: client.client_id, client_id: client.client_id, scope, sid: client.generation, ...(audience && { aud: audience })
      })
      fastify.metrics.tokensIssued.inc({ grant: 'client_credentials' })
      return { ok: true, tokens: { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope } }
    }
  }
}

export type Grants = ReturnType<typeof createGrants>
