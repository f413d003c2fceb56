// The verifier's errors: stable codes, RFC 6750 statuses, a machine-readable `reason` on each,
// and the WWW-Authenticate challenge of each. Their messages are fixed texts: what went wrong
// inside (an unreachable URL, a refused JWK) goes to the log, never to the client.
import createError from '@fastify/error'

export const TokenMissingError = createError<[string]>('AUTH_TOKEN_MISSING', 'No access token in %s', 401)
export const TokenInvalidError = createError<[string]>('AUTH_TOKEN_INVALID', 'The access token is invalid: %s', 401)
export const TokenExpiredError = createError('AUTH_TOKEN_EXPIRED', 'The access token has expired', 401)
export const JwksUnavailableError = createError(
  'AUTH_JWKS_UNAVAILABLE', 'The issuer\'s signing keys cannot be fetched right now', 503)
export const RevocationsUnavailableError = createError(
  'AUTH_REVOCATIONS_UNAVAILABLE', 'The issuer\'s revocations cannot be followed, and this service refuses tokens without them', 503)
export const InsufficientScopeError = createError<[string]>(
  'AUTH_INSUFFICIENT_SCOPE', 'The access token does not grant %s', 403)

/** Why a request was refused; stable values for metrics and logs (the `reason` of every error). */
export type VerifierErrorReason =
  | 'missing' | 'malformed' | 'alg_not_allowed' | 'bad_kid' | 'unknown_kid' | 'bad_signature' | 'expired'
  | 'not_yet_valid' | 'wrong_issuer' | 'wrong_audience' | 'wrong_type' | 'bad_claims' | 'revoked' | 'jwks_unavailable'
  | 'revocations_unavailable' | 'insufficient_scope' | 'insufficient_role'

type WithReason<E> = E & { reason: VerifierErrorReason }
export type VerifierError =
  | WithReason<InstanceType<typeof TokenMissingError>>
  | WithReason<InstanceType<typeof TokenInvalidError>>
  | WithReason<InstanceType<typeof TokenExpiredError>>
  | WithReason<InstanceType<typeof JwksUnavailableError>> & { retryAfter: number }
  | WithReason<InstanceType<typeof RevocationsUnavailableError>> & { retryAfter: number }
  | WithReason<InstanceType<typeof InsufficientScopeError>> & { scope: string }

export type InvalidTokenReason = Exclude<VerifierErrorReason, 'missing' | 'expired' | 'jwks_unavailable' | 'revocations_unavailable' | 'insufficient_scope' | 'insufficient_role'>

/** 401 without an error attribute (RFC 6750 §3.1); `where` says where a token was looked for. */
export function tokenMissing (where: string): VerifierError {
  return Object.assign(new TokenMissingError(where), { reason: 'missing' as const })
}

export function tokenExpired (): VerifierError {
  return Object.assign(new TokenExpiredError(), { reason: 'expired' as const })
}

export function tokenInvalid (reason: InvalidTokenReason, description: string): VerifierError {
  return Object.assign(new TokenInvalidError(description), { reason })
}

/** 503: no usable key and the issuer cannot tell us one; `retryAfter` is in seconds. */
export function jwksUnavailable (retryAfter: number): VerifierError {
  return Object.assign(new JwksUnavailableError(), { reason: 'jwks_unavailable' as const, retryAfter })
}

/** 503: `failClosedAfter` has passed without the revocation feed. */
export function revocationsUnavailable (retryAfter: number): VerifierError {
  return Object.assign(new RevocationsUnavailableError(), { reason: 'revocations_unavailable' as const, retryAfter })
}

/** 403: a valid token without the scopes (or roles) the route needs; `scope` lists what it needs. */
export function insufficientScope (reason: 'insufficient_scope' | 'insufficient_role', needed: string[]): VerifierError {
  const what = reason === 'insufficient_role' ? `any of the roles ${needed.join(' ')}` : `the scope ${needed.join(' ')}`
  return Object.assign(new InsufficientScopeError(what), { reason, scope: reason === 'insufficient_scope' ? needed.join(' ') : '' })
}

function quoted (text: string): string {
  // RFC 6750 §3: error_description is a quoted-string of printable ASCII without `"` or `\`.
  return text.replace(/[^\x20-\x7e]|["\\]/g, '')
}

/** Whether `err` is one of the verifier's own errors. */
export function isVerifierError (err: unknown): err is VerifierError {
  return typeof (err as VerifierError | null)?.reason === 'string' && (err as VerifierError).code?.startsWith('AUTH_')
}

/** The WWW-Authenticate value for `error` (RFC 6750 §3), or undefined when none is due. */
export function bearerChallenge (error: VerifierError, realm: string): string | undefined {
  const base = `Bearer realm="${quoted(realm)}"`
  switch (error.code) {
    case 'AUTH_TOKEN_MISSING':
      return base
    case 'AUTH_JWKS_UNAVAILABLE':
    case 'AUTH_REVOCATIONS_UNAVAILABLE':
      return undefined
    case 'AUTH_INSUFFICIENT_SCOPE': {
      const scope = 'scope' in error && error.scope ? `, scope="${quoted(error.scope)}"` : ''
      return `${base}, error="insufficient_scope", error_description="${quoted(error.message)}"${scope}`
    }
    default:
      return `${base}, error="invalid_token", error_description="${quoted(error.message)}"`
  }
}
