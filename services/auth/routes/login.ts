// POST /auth/login: username + password → a short-lived access token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorSchema } from '../../shared/schemas.js'
import { InvalidCredentialsError, TooManyAttemptsError } from '../errors.js'
import { countLoginFailures } from '../login-metrics.js'
import { createLoginThrottle, type LoginThrottleOptions } from '../login-throttle.js'
import type { User } from '../store/users.js'
import type { Grants } from '../grants.js'
import { createPasswordChecker } from '../passwords.js'
import { LoginBodySchema, TokenResponseSchema } from '../schemas.js'

export type LoginRouteOptions = LoginThrottleOptions

export const loginRoutes: FastifyPluginAsyncTypebox<LoginRouteOptions & { grants: Grants }> = async (fastify, opts) => {
  const passwordMatches = await createPasswordChecker()
  const throttle = createLoginThrottle(fastify.loginCounters, opts)

  /** The user if the password is theirs (and they are enabled); a store error takes the attempt back. */
  async function verify (username: string, password: string, abandoned: () => Promise<void>): Promise<User | undefined> {
    try {
      const user = await fastify.store.users.findByUsername(username)
      const matches = await passwordMatches(user?.password_hash, password)
      return user && matches && !user.disabled ? user : undefined
    } catch (err) {
      await abandoned()
      throw err
    }
  }

  fastify.post('/auth/login', {
    onError: countLoginFailures(fastify),
    schema: {
      tags: ['auth'],
      summary: 'Log in with a username and password',
      body: LoginBodySchema,
      response: { 200: TokenResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    const attempt = await throttle.admit(username, request.ip)
    if (attempt.refused) {
      reply.header('retry-after', attempt.retryAfter)
      throw new TooManyAttemptsError(attempt.retryAfter)
    }
    const user = await verify(username, password, attempt.abandoned)
    if (!user) {
      await attempt.failed()
      throw new InvalidCredentialsError()
    }
    await attempt.succeeded()
    reply.header('cache-control', 'no-store')
    return opts.grants.login(user)
  })
}
