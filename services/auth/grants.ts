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

export type GrantResult = { ok: true, tokens: TokenResponse } | { ok: false, reason: Refused | 'other_client' | 'dpop_key' | 'invalid_scope' | 'invalid_target' }

const scopesOf = (text: string) => text.split(' ').filter(Boolean)

/**
 * What a DPoP key (its thumbprint, from `fastify.dpopBinding`) adds to a grant's tokens: the
 * access token's `cnf.jkt` (RFC 9449 §6.1) and `token_type: DPoP` (§5). Every grant spreads
 * `bound(jkt).claims` into what it signs and answers with `bound(jkt).tokenType`.
 */
export function bound (jkt: string | undefined) {
  return jkt === undefined
    ? { claims: {}, tokenType: 'Bearer' as const }
    : { claims: { cnf: { jkt } }, tokenType: 'DPoP' as const }
}

export function createGrants (fastify: FastifyInstance, options: GrantOptions) {
  const { issuer, store } = fastify

  /** `sessionId` (the refresh family) is the token's `sid`: revoking the session revokes the token. */
  function userAccessToken (user: User, clientId: string, scope: string, sessionId: string, jkt: string | undefined) {
    const roles = scopesOf(user.roles)
    return issuer.signAccessToken({
      sub: user.id, client_id: clientId, scope, username: user.username, sid: sessionId, ...(roles.length > 0 && { roles }), ...bound(jkt).claims
    })
  }

  return {
    /** The public client of first-party logins: its refresh tokens need no client authentication. */
    loginClientId: options.loginClientId,

    /**
     * A new session for a user who just proved their password. With a DPoP key (`jkt`), the access
     * token is bound to it and so is the session's refresh token: the login client is public
     * (RFC 9449 §5: a public client's refresh tokens are bound).
     */
    async login (user: User, jkt?: string): Promise<TokenResponse> {
      // The session first: its id is the access token's sid.
      const { sessionId, refreshToken } = await store.refreshTokens.start({
        userId: user.id, clientId: options.loginClientId, scope: options.loginScope, dpopJkt: jkt ?? null
      })
      const { accessToken, expiresIn } = await userAccessToken(user, options.loginClientId, options.loginScope, sessionId, jkt)
      fastify.metrics.tokensIssued.inc({ grant: 'password' })
      return { access_token: accessToken, token_type: bound(jkt).tokenType, expires_in: expiresIn, refresh_token: refreshToken }
    },

    /**
     * Rotates a refresh token of `clientId` (by default the login client): a new pair, or the reason
     * it is refused. Another client's token is refused untouched (RFC 6749 §6: only the client it was
     * issued to may use it), so presenting it neither spends it nor revokes its session. A refresh
     * token bound to a DPoP key is refused untouched without a proof of that very key (`jkt`):
     * whoever copied it without the key cannot spend it either. With a proof, the new access
     * token is bound to its key.
     */
    async refresh (refreshToken: string, clientId = options.loginClientId, jkt?: string): Promise<GrantResult> {
      const holder = await store.refreshTokens.holderOf(refreshToken)
      if (holder !== undefined && holder.clientId !== clientId) return { ok: false, reason: 'other_client' }
      if (holder?.dpopJkt != null && holder.dpopJkt !== jkt) return { ok: false, reason: 'dpop_key' }
      const outcome = await store.refreshTokens.rotate(refreshToken)
      if (!outcome.ok) return outcome
      const user = await store.users.findById(outcome.session.userId)
      // The join in rotate() found this user a moment ago; cascade deletes remove their families.
      const { accessToken, expiresIn } = await userAccessToken(user!, outcome.session.clientId, outcome.session.scope, outcome.session.familyId, jkt)
      fastify.metrics.tokensIssued.inc({ grant: 'refresh_token' })
      return {
        ok: true,
        tokens: { access_token: accessToken, token_type: bound(jkt).tokenType, expires_in: expiresIn, refresh_token: outcome.refreshToken }
      }
    },

    /**
     * client_credentials (RFC 6749 §4.4, RFC 9068 §2.2: sub and client_id are the client).
     * No scope asked: every scope of the client. Asked: a subset of the client's, or invalid_scope.
     */
    async clientCredentials (client: Client, requestedScope: string | undefined, audience: string | undefined, jkt?: string): Promise<GrantResult> {
      const allowed = scopesOf(client.scopes)
      const requested = requestedScope === undefined ? allowed : scopesOf(requestedScope)
      if (requested.length === 0 || !requested.every((scope) => allowed.includes(scope))) return { ok: false, reason: 'invalid_scope' }
      if (audience !== undefined && !scopesOf(client.audiences).includes(audience)) return { ok: false, reason: 'invalid_target' }
      const scope = requested.join(' ')
      // sid: the client's credential generation, which disabling, deleting or rotating it revokes.
      const { accessToken, expiresIn } = await issuer.signAccessToken({
        sub: client.client_id, client_id: client.client_id, scope, sid: client.generation, ...(audience && { aud: audience }), ...bound(jkt).claims
      })
      fastify.metrics.tokensIssued.inc({ grant: 'client_credentials' })
      return { ok: true, tokens: { access_token: accessToken, token_type: bound(jkt).tokenType, expires_in: expiresIn, scope } }
    }
  }
}

export type Grants = ReturnType<typeof createGrants>
