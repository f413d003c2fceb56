// POST /auth/login: username + password → a short-lived access token and a refresh token; the
// client also gets its device cookie for that username (see password-login.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorSchema } from '../../shared/schemas.js'
import { countLoginFailures } from '../login-metrics.js'
import type { Grants } from '../grants.js'
import { LoginBodySchema, TokenResponseSchema } from '../schemas.js'

export const loginRoutes: FastifyPluginAsyncTypebox<{ grants: Grants }> = async (fastify, { grants }) => {
  fastify.post('/auth/login', {
    onError: countLoginFailures(fastify),
    schema: {
      tags: ['auth'],
      summary: 'Log in with a username and password',
      description: 'A success also sets the device cookie for that username (keep cookies, as browsers and `curl -c/-b` do): ' +
        'a client that presents it is throttled on its own failures only, whatever others try against the account. ' +
        '403 AUTH_PASSWORD_CHANGE_REQUIRED: the password is a temporary one an administrator set; change it with POST /auth/password. ' +
        'With a `DPoP` proof header (RFC 9449), the tokens are bound to its key (`token_type: DPoP`).',
      body: LoginBodySchema,
      response: { 200: TokenResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    // The proof first: a bad one is refused before the password is checked (and counted).
    const jkt = await fastify.dpopBinding(request, reply)
    const user = await fastify.passwordLogin.attempt(request, reply, request.body.username, request.body.password)
    reply.header('cache-control', 'no-store')
    return grants.login(user, jkt)
  })
}
