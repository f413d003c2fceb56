// What the verifier checks before any key lookup (so junk never causes a fetch), what it checks
// after the signature, and how every fast-jwt failure becomes one of our errors with a reason.
import { createDecoder } from 'fast-jwt'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ACCESS_TOKEN_TYPE, AccessTokenClaimsSchema, type AccessTokenClaims } from '../shared/claims.js'
import { tokenExpired, tokenInvalid, tokenMissing, type InvalidTokenReason, type VerifierError } from './errors.js'
import { KID_PATTERN } from './key-set.js'

const decodeComplete = createDecoder({ complete: true })
const claimsChecker = TypeCompiler.Compile(AccessTokenClaimsSchema)
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/** The token of `Authorization: Bearer <token>` (RFC 6750 §2.1); other schemes count as no token. */
export function bearerToken (authorization: string | undefined): string {
  if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) throw tokenMissing()
  const match = BEARER.exec(authorization)
  if (!match) throw tokenInvalid('malformed', 'the Authorization header is malformed')
  return match[1]!
}

export interface DecodedToken {
  kid: string
  iss: string
}

/** Decodes without verifying and checks what picks the key: alg, typ, kid and iss. */
export function preCheck (token: string, algorithms: readonly string[], issuers: ReadonlySet<string>): DecodedToken {
  let decoded: { header: Record<string, unknown>, payload: unknown }
  try {
    decoded = decodeComplete(token)
  } catch {
    throw tokenInvalid('malformed', 'the token is not a well-formed JWT')
  }
  const { header, payload } = decoded
  if (!algorithms.includes(header.alg as string)) throw tokenInvalid('alg_not_allowed', 'the algorithm is not allowed')
  if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== ACCESS_TOKEN_TYPE) {
    throw tokenInvalid('wrong_type', `the typ header is not ${ACCESS_TOKEN_TYPE}`)
  }
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) {
    throw tokenInvalid('bad_kid', 'the kid header is missing or malformed')
  }
  const iss = (payload as { iss?: unknown } | null)?.iss
  if (typeof iss !== 'string' || !issuers.has(iss)) throw tokenInvalid('wrong_issuer', 'the issuer is not trusted')
  return { kid: header.kid, iss }
}

/** Claim types and an `iat` not in the future (fast-jwt checks `iat` only against maxAge). */
export function checkClaims (claims: unknown, clockToleranceSeconds: number): AccessTokenClaims {
  if (!claimsChecker.Check(claims)) {
    const first = claimsChecker.Errors(claims).First()!
    throw tokenInvalid('bad_claims', `claim ${first.path.slice(1)} ${first.message}`)
  }
  if (claims.iat > Math.floor(Date.now() / 1000) + clockToleranceSeconds) {
    throw tokenInvalid('not_yet_valid', 'the token was issued in the future')
  }
  return claims
}

// fast-jwt codes; `iss` is checked before the key lookup, so a claim value refused here is `aud`.
const REASONS = new Map<unknown, [InvalidTokenReason, string]>(Object.entries({
  FAST_JWT_INVALID_SIGNATURE: ['bad_signature', 'the signature is invalid'],
  FAST_JWT_INACTIVE: ['not_yet_valid', 'the token is not valid yet'],
  FAST_JWT_INVALID_CLAIM_VALUE: ['wrong_audience', 'the audience is not accepted'],
  FAST_JWT_INVALID_ALGORITHM: ['alg_not_allowed', 'the algorithm does not match the key'],
  FAST_JWT_MISSING_REQUIRED_CLAIM: ['bad_claims', 'a required claim is missing'],
  FAST_JWT_INVALID_CLAIM_TYPE: ['bad_claims', 'a claim has the wrong type'],
  FAST_JWT_INVALID_PAYLOAD: ['bad_claims', 'the payload is not an object']
} satisfies Record<string, [InvalidTokenReason, string]>))

/** Maps what a fast-jwt verifier threw to a verifier error; anything unknown is a malformed token. */
export function fromFastJwtError (err: unknown): VerifierError {
  const code = (err as { code?: unknown }).code
  if (code === 'FAST_JWT_EXPIRED') return tokenExpired()
  const [reason, description] = REASONS.get(code) ?? ['malformed', 'the token is malformed']
  return tokenInvalid(reason, description)
}
