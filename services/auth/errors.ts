import createError from '@fastify/error'

export const InvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'invalid credentials', 401)
export const TooManyAttemptsError = createError<[number]>(
  'AUTH_RATE_LIMITED', 'Too many login attempts, retry in %d seconds', 429)

/** A refresh token that is unknown, used, expired or revoked: the client must log in again. */
export const InvalidGrantError = createError('AUTH_INVALID_GRANT', 'invalid_grant: the refresh token is not valid; log in again', 401)

/** A Last-Event-ID header on the revocation feed that is not a decimal event id. */
export const RevocationBadEventIdError = createError('REVOCATION_BAD_EVENT_ID', 'Last-Event-ID must be a decimal event id', 400)

/** The revocation feed holds as many streams as it may, in total or from this address: retry later (or at another replica). */
export const RevocationFeedBusyError = createError('REVOCATION_FEED_BUSY', 'The revocation feed has no stream free for this address now; retry shortly', 503)

/** A DPoP proof sent to a token-issuing route fails a check of RFC 9449 §4.3 (or a client that must send one did not). */
export const InvalidDpopProofError = createError<[string]>('AUTH_INVALID_DPOP_PROOF', 'invalid_dpop_proof: %s', 400)
/** Server nonces are on and the proof lacks a fresh one: retry with the nonce in the DPoP-Nonce header (RFC 9449 §8). */
export const UseDpopNonceError = createError('AUTH_USE_DPOP_NONCE', 'use_dpop_nonce: send a DPoP proof with the nonce in the DPoP-Nonce header', 400)
/** The DPoP replay cache (Redis) does not answer: a proof can be neither accepted nor refused. */
export const DpopReplayUnavailableError = createError('AUTH_DPOP_REPLAY_UNAVAILABLE', 'DPoP proofs cannot be checked for replay right now; retry shortly', 503)
/** The password is right but temporary (set by an admin): change it first, with POST /auth/password. */
export const PasswordChangeRequiredError = createError('AUTH_PASSWORD_CHANGE_REQUIRED', 'This password was set by an administrator and must be changed first (POST /auth/password)', 403)
