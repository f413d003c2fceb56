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

/** The password is right but temporary (set by an admin): change it first, with POST /auth/password. */
export const PasswordChangeRequiredError = createError('AUTH_PASSWORD_CHANGE_REQUIRED', 'This password was set by an administrator and must be changed first (POST /auth/password)', 403)
