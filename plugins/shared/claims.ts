// What both plugins agree on: the access token's header type and claim set (RFC 9068).
// Imports neither plugin, so the verifier stays installable without the issuer.
import { Type, type Static } from '@sinclair/typebox'

export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Claims of an access token, as the issuer signs them and the verifier hands them to routes. */
export const AccessTokenClaimsSchema = Type.Object({
  iss: Type.String(),
  sub: Type.String({ minLength: 1 }),
  aud: Type.Union([Type.String(), Type.Array(Type.String())]),
  exp: Type.Integer(),
  iat: Type.Integer(),
  // RFC 7519 NumericDate; another issuer may send a fractional one.
  nbf: Type.Optional(Type.Number()),
  jti: Type.String(),
  client_id: Type.String(),
  scope: Type.String(),
  username: Type.Optional(Type.String()),
  // The session (user tokens) or the client's credential generation (client tokens): revoking it
  // revokes every token that carries it (see the auth service's revocation feed).
  sid: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  // RFC 9449 §6.1: a token bound to a DPoP key names its RFC 7638 thumbprint. Another confirmation
  // method (mTLS's x5t#S256) is one no verifier here can check, so a cnf without jkt is refused.
  cnf: Type.Optional(Type.Object({ jkt: Type.String({ minLength: 1 }) })),
  // When the user last proved who they are (unix seconds, RFC 9068 §2.2.1): the admin API asks for
  // a recent one before destructive actions.
  auth_time: Type.Optional(Type.Integer())
})
export type AccessTokenClaims = Static<typeof AccessTokenClaimsSchema>

/** Claims the issuer is asked to put in a token; it adds iss, exp, iat, jti, and aud unless given. */
export type TokenSubject = Pick<AccessTokenClaims, 'sub' | 'client_id' | 'scope' | 'username' | 'sid' | 'roles' | 'cnf' | 'auth_time'> & { aud?: string | string[] }
