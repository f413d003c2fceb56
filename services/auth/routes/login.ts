// POST /auth/login: username + password → a short-lived access token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '@fastify/rate-limit'
import { ErrorSchema } from '../../shared/schemas.js'
import { InvalidCredentialsError, TooManyAttemptsError } from '../errors.js'
import { countLoginFailures } from '../login-metrics.js'
import { createPasswordChecker } from '../passwords.js'
import { LoginBodySchema, TokenResponseSchema } from '../schemas.js'
import { normaliseUsername } from '../store/users.js'

export interface LoginRouteOptions {
  /** `client_id` of tokens issued by password login (the first-party login client). */
  clientId: string
  scope: string
  /** Attempts allowed per client address, and per username, in `rateWindow` seconds. */
  maxPerIp: number
  maxPerUsername: number
  rateWindow: number
}

export const loginRoutes: FastifyPluginAsyncTypebox<LoginRouteOptions> = async (fastify, opts) => {
  const passwordMatches = await createPasswordChecker()
  const tooMany = (request: unknown, context: { ttl: number }) => new TooManyAttemptsError(Math.ceil(context.ttl / 1000))
  const limitPerIp = fastify.rateLimit({
    max: opts.maxPerIp, timeWindow: opts.rateWindow * 1000, keyGenerator: (request) => `login-ip:${request.ip}`, errorResponseBuilder: tooMany
  })
  const limitPerUsername = fastify.rateLimit({
    max: opts.maxPerUsername,
    timeWindow: opts.rateWindow * 1000,
    keyGenerator: (request) => `login-user:${normaliseUsername((request.body as { username: string }).username)}`,
    errorResponseBuilder: tooMany
  })

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
  }, async (request) => {
    const { username, password } = request.body
    const user = await fastify.store.users.findByUsername(username)
    const matches = await passwordMatches(user?.password_hash, password)
    if (!user || !matches || user.disabled) throw new InvalidCredentialsError()

    const roles = user.roles ? user.roles.split(' ') : undefined
    const { accessToken, expiresIn } = fastify.issuer.signAccessToken({
      sub: user.id, client_id: opts.clientId, scope: opts.scope, username: user.username, ...(roles && { roles })
    })
    fastify.metrics.tokensIssued.inc({ grant: 'password' })
    return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: expiresIn }
  })
}
