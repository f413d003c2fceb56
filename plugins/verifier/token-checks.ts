// What the verifier checks after the signature, and how every failure becomes one of our errors.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { AccessTokenClaimsSchema, type AccessTokenClaims } from '../shared/claims.js'
import { TokenExpiredError, TokenInvalidError, TokenMissingError, type VerifierError } from './errors.js'

const claimsChecker = TypeCompiler.Compile(AccessTokenClaimsSchema)

/** Claim types and an `iat` not in the future (fast-jwt checks `iat` only against maxAge). */
export function checkClaims (claims: unknown, clockToleranceSeconds: number): AccessTokenClaims {
  if (!claimsChecker.Check(claims)) {
    const first = claimsChecker.Errors(claims).First()
    throw new TokenInvalidError(`claim ${first?.path.slice(1) ?? ''} ${first?.message ?? 'is invalid'}`)
  }
  if (claims.iat > Math.floor(Date.now() / 1000) + clockToleranceSeconds) {
    throw new TokenInvalidError('the token was issued in the future')
  }
  return claims
}

const MISSING = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER'])
const EXPIRED = new Set(['FST_JWT_AUTHORIZATION_TOKEN_EXPIRED', 'FAST_JWT_EXPIRED'])
const OURS = new Set(['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_JWKS_UNAVAILABLE'])

/**
 * Maps whatever verification threw (ours, @fastify/jwt's, fast-jwt's) to a verifier error.
 * Anything unknown is an invalid token: a bad token must never become a 500.
 */
export function toVerifierError (err: unknown): VerifierError {
  const { code, message } = err as { code?: string, message?: string }
  if (code !== undefined && OURS.has(code)) return err as VerifierError
  if (code !== undefined && MISSING.has(code)) return new TokenMissingError()
  if (code !== undefined && EXPIRED.has(code)) return new TokenExpiredError()
  return new TokenInvalidError(describe(code, message))
}

function describe (code: string | undefined, message: string | undefined): string {
  if (code === 'FST_JWT_BAD_REQUEST') return 'the Authorization header is malformed'
  // fast-jwt's messages name the failed check ("The token signature is invalid.") and hold no secret.
  return (message ?? 'verification failed').replace(/\.$/, '').replace(/^The token /, '').toLowerCase()
}
