// What each grant hands out: the token pair of a login or a refresh, and the access token of a
// machine client. Shared by /auth/* and /oauth/token so both follow the same rules.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Client } from './store/clients.js'
import type { Refused } from './store/refresh-tokens.js'
import type { User } from './store/users.js'
import type { TokenResponse } from './schemas.js'

export interface GrantOptions {
  /** client_id and scope of the tokens a password login issues. */
  loginClientId: string
  loginScope: string
  /** The `iss`; also the audience of tokens with the openid scope (the userinfo endpoint is a resource here). */
  issuer: string
  /** Seconds an ID token lives. */
  idTokenTtl: number
}

export type GrantResult = { ok: true, tokens: TokenResponse } | { ok: false, reason: Refused | 'other_client' | 'dpop_key' | 'invalid_scope' | 'invalid_target' | 'invalid_code' }

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

// RFC 7636 §4.1: 43 to 128 unreserved characters.
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/** Whether `verifier` is the one `challenge` was made from (S256, RFC 7636 §4.6). */
export function pkceMatches (verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !CODE_VERIFIER.test(verifier)) return false
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** OpenID Connect Core §3.1.3.6: the left half of the access token's SHA-256, base64url. */
export function atHash (accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url')
}

export function createGrants (fastify: FastifyInstance, options: GrantOptions) {
  const { issuer, store } = fastify

  /** `sessionId` (the refresh family) is the token's `sid`: revoking the session revokes the token. */
  function userAccessToken (user: User, clientId: string, scope: string, sessionId: string, jkt: string | undefined, aud?: string | string[], authTime?: number) {
    const roles = scopesOf(user.roles)
    return issuer.signAccessToken({
      sub: user.id,
      client_id: clientId,
      scope,
      username: user.username,
      sid: sessionId,
      ...(roles.length > 0 && { roles }),
      ...(aud && { aud }),
      // When the user signed in (RFC 9068 §2.2.1): the admin API wants a recent one for destructive actions.
      ...(authTime !== undefined && { auth_time: authTime }),
      ...bound(jkt).claims
    })
  }

  /**
   * The audience of a browser client's user tokens: the client's audiences, and the issuer itself
   * when the scope has openid (the userinfo endpoint accepts only tokens meant for it).
   */
  function browserAudience (client: Pick<Client, 'audiences'>, scope: string): string | string[] {
    const audiences = scopesOf(client.audiences)
    if (scopesOf(scope).includes('openid')) audiences.push(options.issuer)
    return audiences.length === 1 ? audiences[0]! : audiences
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
      // A browser client's tokens keep its audiences; a disabled client refreshes nothing.
      const client = clientId === options.loginClientId ? undefined : await store.clients.find(clientId)
      if (clientId !== options.loginClientId && !client) return { ok: false, reason: 'revoked' }
      const outcome = await store.refreshTokens.rotate(refreshToken)
      if (!outcome.ok) return outcome
      const user = await store.users.findById(outcome.session.userId)
      // The join in rotate() found this user a moment ago; cascade deletes remove their families.
      const { accessToken, expiresIn } = await userAccessToken(user!, outcome.session.clientId, outcome.session.scope, outcome.session.familyId, jkt,
        client && browserAudience(client, outcome.session.scope))
      fastify.metrics.tokensIssued.inc({ grant: 'refresh_token' })
      return {
        ok: true,
        tokens: { access_token: accessToken, token_type: bound(jkt).tokenType, expires_in: expiresIn, refresh_token: outcome.refreshToken }
      }
    },

    /**
     * authorization_code (RFC 6749 §4.1.3, with PKCE): redeems the code once, for the client it was
     * issued to, at the same redirect_uri, with the verifier of its challenge. The answer has an
     * ID token when the scope has openid, and a refresh token when it has offline_access.
     */
    async authorizationCode (client: Client, code: string, redirectUri: string | undefined, verifier: string | undefined, jkt?: string): Promise<GrantResult> {
      // RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key; a confidential client's are bound to it by its authentication.
      const redemption = await store.signIn.codes.redeem(code, (row) =>
        row.client_id === client.client_id && row.redirect_uri === redirectUri && pkceMatches(verifier, row.code_challenge), client.public === 1 ? jkt : undefined)
      if (!redemption.ok) return { ok: false, reason: 'invalid_code' }
      const { code: row, familyId, refreshToken } = redemption
      const user = await store.users.findById(row.user_id)
      if (!user || user.disabled) return { ok: false, reason: 'invalid_code' }
      const { accessToken, expiresIn } = await userAccessToken(user, client.client_id, row.scope, familyId, jkt, browserAudience(client, row.scope), row.auth_time)
      const idToken = scopesOf(row.scope).includes('openid')
        ? await issuer.signIdToken({
          sub: user.id,
          aud: client.client_id,
          auth_time: row.auth_time,
          ...(row.nonce !== null && { nonce: row.nonce }),
          sid: row.browser_session_id,
          at_hash: atHash(accessToken),
          ...(scopesOf(row.scope).includes('profile') && { preferred_username: user.username })
        }, options.idTokenTtl)
        : undefined
      fastify.metrics.tokensIssued.inc({ grant: 'authorization_code' })
      return {
        ok: true,
        tokens: {
          access_token: accessToken,
          token_type: bound(jkt).tokenType,
          expires_in: expiresIn,
          scope: row.scope,
          ...(idToken && { id_token: idToken }),
          ...(refreshToken && { refresh_token: refreshToken })
        }
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
