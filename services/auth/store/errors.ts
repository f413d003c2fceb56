import createError from '@fastify/error'

/** The database cannot be reached: the request may succeed later, so 503 and not 500. */
export const StoreUnavailableError = createError(
  'AUTH_STORE_UNAVAILABLE', 'The user store is unreachable; retry shortly', 503)

export const STORE_RETRY_AFTER_SECONDS = 5
