// POST /auth/login: username + password → a short-lived access token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorSchema } from '../../shared/schemas.js'
import { InvalidCredentialsError, TooManyAttemptsError } from '../errors.js'
import { countLoginFailures } from '../login-metrics.js'
import type { Grants } from '../grants.js'
import { createPasswordChecker } from '../passwords.js'
import { LoginBodySchema, TokenResponseSchema, type LoginBody } from '../schemas.js'
import { normaliseUsername } from '../store/users.js'

export interface LoginRouteOptions {
  /** Attempts allowed per client address, and per username, in `rateWindow` seconds. */
  maxPerIp: number
  maxPerUsername: number
  rateWindow: number
}

export const loginRoutes: FastifyPluginAsyncTypebox<LoginRouteOptions & { grants: Grants }> = async (fastify, opts) => {
  const passwordMatches = await createPasswordChecker()
  const tooMany = (request: unknown, context: { ttl: number }) => new TooManyAttemptsError(Math.ceil(context.ttl / 1000))
  const limitPerIp = fastify.rateLimit({
    max: opts.maxPerIp, timeWindow: opts.rateWindow * 1000, keyGenerator: (request) => `login-ip:${request.ip}`, errorResponseBuilder: tooMany
  })
  // A second fastify.rateLimit() on the same route would be skipped (the plugin runs one limiter
  // per request), so the per-username counter uses createRateLimit and answers 429 itself.
  const usernameAttempts = fastify.createRateLimit({
    max: opts.maxPerUsername,
    timeWindow: opts.rateWindow * 1000,
    keyGenerator: (request) => `login-user:${normaliseUsername((request.body as LoginBody).username)}`
  })
  async function limitPerUsername (request: FastifyRequest, reply: FastifyReply) {
    const attempts = await usernameAttempts(request)
    if (!attempts.isAllowed && attempts.isExceeded) {
      reply.header('retry-after', attempts.ttlInSeconds)
      throw new TooManyAttemptsError(attempts.ttlInSeconds)
    }
  }

  fastify.post('/auth/login', {
    onRequest: limitPerIp,
    preHandler: limitPerUsername,
    onError: countLoginFailures(fastify),
    schema: {
      tags: ['auth'],
      summary: 'Log in with a username and password',
      body: LoginBodySchema,
      response: { 200: TokenResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    const user = await fastify.store.users.findByUsername(username)
    const matches = await passwordMatches(user?.password_hash, password)
    if (!user || !matches || user.disabled) throw new InvalidCredentialsError()

    reply.header('cache-control', 'no-store')
    return opts.grants.login(user)
  })
}
