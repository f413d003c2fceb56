// The verifier's errors: stable codes, RFC 6750 statuses and the WWW-Authenticate challenge of each.
import createError from '@fastify/error'

export const TokenMissingError = createError('AUTH_TOKEN_MISSING', 'No bearer token in the Authorization header', 401)
export const TokenInvalidError = createError<[string]>('AUTH_TOKEN_INVALID', 'The access token is invalid: %s', 401)
export const TokenExpiredError = createError('AUTH_TOKEN_EXPIRED', 'The access token has expired', 401)
export const JwksUnavailableError = createError<[string]>(
  'AUTH_JWKS_UNAVAILABLE', 'The signing keys cannot be fetched from the issuer: %s', 503)

export type VerifierError =
  | InstanceType<typeof TokenMissingError>
  | InstanceType<typeof TokenInvalidError>
  | InstanceType<typeof TokenExpiredError>
  | InstanceType<typeof JwksUnavailableError>

/** Seconds a client should wait after a 503 before trying again. */
export const JWKS_RETRY_AFTER_SECONDS = 5

function quoted (text: string): string {
  // RFC 6750 §3: error_description is a quoted-string of printable ASCII without `"` or `\`.
  return text.replace(/[^\x20-\x7e]|["\\]/g, '')
}

/** The WWW-Authenticate value for `error` (RFC 6750 §3), or undefined when none is due. */
export function bearerChallenge (error: VerifierError, realm: string): string | undefined {
  const base = `Bearer realm="${quoted(realm)}"`
  switch (error.code) {
    case 'AUTH_TOKEN_MISSING':
      return base
    case 'AUTH_JWKS_UNAVAILABLE':
      return undefined
    default:
      return `${base}, error="invalid_token", error_description="${quoted(error.message)}"`
  }
}
