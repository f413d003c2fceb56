import createError from '@fastify/error'

export const InvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'invalid credentials', 401)
export const TooManyAttemptsError = createError<[number]>(
  'AUTH_RATE_LIMITED', 'Too many login attempts, retry in %d seconds', 429)
