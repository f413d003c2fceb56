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
export const DpopProofInvalidError = createError<[string]>('AUTH_DPOP_PROOF_INVALID', 'The DPoP proof is invalid: %s', 401)
export const DpopReplayUnavailableError = createError(
  'AUTH_DPOP_REPLAY_UNAVAILABLE', 'DPoP proofs cannot be checked for replay right now', 503)
export const DpopNonceRequiredError = createError('AUTH_DPOP_NONCE_REQUIRED', 'A DPoP proof with the server\'s current nonce is required', 401)

/** Why a request was refused; stable values for metrics and logs (the `reason` of every error). */
export type VerifierErrorReason =
  | 'missing' | 'malformed' | 'alg_not_allowed' | 'bad_kid' | 'unknown_kid' | 'bad_signature' | 'expired'
  | 'not_yet_valid' | 'wrong_issuer' | 'wrong_audience' | 'wrong_type' | 'bad_claims' | 'revoked' | 'jwks_unavailable'
  | 'revocations_unavailable' | 'insufficient_scope' | 'insufficient_role'
  // A DPoP-bound token without its proof (as Bearer, say), a proof with an unbound token, or no proof where one is required.
  | 'dpop_bound' | 'dpop_unbound' | 'dpop_required' | 'dpop_replay_unavailable'
  | DpopProofReason

/** Why a DPoP proof was refused (RFC 9449 §4.3): the reasons of AUTH_DPOP_PROOF_INVALID, and dpop_nonce. */
export type DpopProofReason =
  | 'dpop_missing' | 'dpop_malformed' | 'dpop_alg_not_allowed' | 'dpop_bad_key' | 'dpop_bad_signature' | 'dpop_bad_claims'
  | 'dpop_wrong_method' | 'dpop_wrong_url' | 'dpop_stale' | 'dpop_wrong_ath' | 'dpop_wrong_key' | 'dpop_replayed' | 'dpop_nonce'

type WithReason<E> = E & { reason: VerifierErrorReason }
export type VerifierError =
  | WithReason<InstanceType<typeof TokenMissingError>>
  | WithReason<InstanceType<typeof TokenInvalidError>>
  | WithReason<InstanceType<typeof TokenExpiredError>>
  | WithReason<InstanceType<typeof JwksUnavailableError>> & { retryAfter: number }
  | WithReason<InstanceType<typeof RevocationsUnavailableError>> & { retryAfter: number }
  | WithReason<InstanceType<typeof InsufficientScopeError>> & { scope: string }
  | WithReason<InstanceType<typeof DpopProofInvalidError>>
  | WithReason<InstanceType<typeof DpopReplayUnavailableError>> & { retryAfter: number }
  | WithReason<InstanceType<typeof DpopNonceRequiredError>> & { nonce: string }

export type InvalidTokenReason = Exclude<VerifierErrorReason, 'missing' | 'expired' | 'jwks_unavailable' | 'revocations_unavailable' | 'insufficient_scope' | 'insufficient_role' | 'dpop_replay_unavailable' | DpopProofReason>

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

/** 401 invalid_dpop_proof (RFC 9449 §7.1): the proof fails one of the checks of §4.3. */
export function dpopProofInvalid (reason: Exclude<DpopProofReason, 'dpop_nonce'>, description: string): VerifierError {
  return Object.assign(new DpopProofInvalidError(description), { reason })
}

/** 503: the shared replay cache (Redis) did not answer; the proof can be neither accepted nor refused. */
export function dpopReplayUnavailable (): VerifierError {
  return Object.assign(new DpopReplayUnavailableError(), { reason: 'dpop_replay_unavailable' as const, retryAfter: 1 })
}

/** 401 use_dpop_nonce (RFC 9449 §8, §9): `nonce` goes back in the DPoP-Nonce header. */
export function dpopNonceRequired (nonce: string): VerifierError {
  return Object.assign(new DpopNonceRequiredError(), { reason: 'dpop_nonce' as const, nonce })
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
    case 'AUTH_DPOP_REPLAY_UNAVAILABLE':
      return undefined
    case 'AUTH_INSUFFICIENT_SCOPE': {
      const scope = 'scope' in error && error.scope ? `, scope="${quoted(error.scope)}"` : ''
      return `${base}, error="insufficient_scope", error_description="${quoted(error.message)}"${scope}`
    }
    default:
      return `${base}, error="invalid_token", error_description="${quoted(error.message)}"`
  }
}

export interface ChallengeRules {
  realm: string
  /** The verifier's DPoP mode; 'off': Bearer challenges only. */
  dpop: 'off' | 'allowed' | 'required'
  dpopAlgorithms: readonly string[]
}

/**
 * The WWW-Authenticate value for `error` with DPoP in play (RFC 9449 §7.1): no credentials offer
 * both schemes (DPoP alone when required); a refused proof or a refusal of a request made with the
 * DPoP scheme is a DPoP challenge, with the algorithms proofs may use; the rest as bearerChallenge.
 */
export function challenge (error: VerifierError, rules: ChallengeRules, dpopScheme: boolean): string | undefined {
  const bearer = bearerChallenge(error, rules.realm)
  if (rules.dpop === 'off' || bearer === undefined) return bearer
  const dpop = `DPoP realm="${quoted(rules.realm)}", algs="${rules.dpopAlgorithms.join(' ')}"`
  switch (error.code) {
    case 'AUTH_TOKEN_MISSING':
      return rules.dpop === 'required' ? dpop : `${bearer}, ${dpop}`
    case 'AUTH_DPOP_PROOF_INVALID':
      return `${dpop}, error="invalid_dpop_proof", error_description="${quoted(error.message)}"`
    case 'AUTH_DPOP_NONCE_REQUIRED':
      return `${dpop}, error="use_dpop_nonce", error_description="${quoted(error.message)}"`
  }
  return dpopScheme || error.reason.startsWith('dpop_') ? `${dpop}${bearer.slice(bearer.indexOf('", ') + 1)}` : bearer
}
