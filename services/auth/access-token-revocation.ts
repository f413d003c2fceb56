// POST /oauth/revoke with an access token (RFC 7009 §2.1, token_type_hint=access_token): its jti
// is published on the revocation feed until its exp. The jti and exp are trusted only once the
// signature checks against this issuer's own key ring; any other token is ignored, and the answer
// is 200 all the same (RFC 7009 §2.2), so the endpoint tells nobody what it holds.
// Checked by hand with node:crypto, as token-signer.ts signs: the service's own RS256 tokens only.
import { createPublicKey, verify } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ACCESS_TOKEN_TYPE } from '../../plugins/shared/claims.js'
import type { Client } from './store/clients.js'

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/

/** Refresh tokens are one base64url string; an access token is a compact JWS (three parts). */
export function looksLikeAccessToken (token: string): boolean {
  return COMPACT_JWS.test(token)
}

interface RevocableClaims {
  /** The username of a user's token, else its sub (for the audit trail). */
  subject: string
  jti: string
  exp: number
  client_id: string
}

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>

export function createAccessTokenRevoker (fastify: FastifyInstance, options: { issuer: string, loginClientId: string }) {
  /** The claims of a token this issuer signed (any key of its ring, any time), else undefined. */
  function verifiedClaims (token: string): RevocableClaims | undefined {
    const [header, payload, signature] = token.split('.') as [string, string, string]
    try {
      const { alg, typ, kid } = decode(header)
      const key = fastify.issuer.keyRing.keys().find((candidate) => candidate.kid === kid)
      if (alg !== 'RS256' || typ !== ACCESS_TOKEN_TYPE || !key) return undefined
      const publicKey = createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' })
      if (!verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))) return undefined
      const claims = decode(payload)
      const { iss, sub, username, jti, exp, client_id: clientId } = claims
      if (iss !== options.issuer || typeof jti !== 'string' || !Number.isInteger(exp) || typeof clientId !== 'string') return undefined
      return { subject: String(username ?? sub), jti, exp: exp as number, client_id: clientId }
    } catch {
      // Not JSON, not a JWK the ring could hold: not one of our tokens.
      return undefined
    }
  }

  /**
   * Revokes `token` if this issuer signed it, it has not expired, and it belongs to `client` (the
   * authenticated client; unauthenticated, the first-party login client whose tokens browsers hold).
   * Returns the token's username (its sub for a client's token) when it was revoked, for the audit trail.
   */
  return async function revokeAccessToken (token: string, client: Client | undefined): Promise<string | undefined> {
    const claims = verifiedClaims(token)
    if (!claims || claims.exp <= Date.now() / 1000) return undefined
    if (claims.client_id !== (client?.client_id ?? options.loginClientId)) return undefined
    const { revocations } = fastify.store
    await revocations.transaction((trx) => revocations.revokeToken(trx, claims.jti, claims.exp))
    return claims.subject
  }
}

export type AccessTokenRevoker = ReturnType<typeof createAccessTokenRevoker>
