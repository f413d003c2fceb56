// POST /auth/refresh (rotation with reuse detection) and POST /auth/logout (revokes the session).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../../shared/schemas.js'
import { InvalidGrantError } from '../errors.js'
import { auditSessionEnd } from '../audit-trail.js'
import type { Grants } from '../grants.js'
import { RefreshBodySchema, TokenResponseSchema } from '../schemas.js'

export const sessionRoutes: FastifyPluginAsyncTypebox<{ grants: Grants }> = async (fastify, { grants }) => {
  fastify.post('/auth/refresh', {
    schema: {
      tags: ['auth'],
      summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
      description: 'Presenting a refresh token that was already used revokes the whole session. ' +
        'A refresh token issued with a DPoP proof needs a proof of the same key (`DPoP` header) on every refresh.',
      body: RefreshBodySchema,
      response: { 200: TokenResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const jkt = await fastify.dpopBinding(request, reply)
    const result = await grants.refresh(request.body.refresh_token, undefined, jkt)
    if (!result.ok) {
      request.log.info({ reason: result.reason }, 'refresh refused')
      throw new InvalidGrantError()
    }
    reply.header('cache-control', 'no-store')
    return result.tokens
  })

  fastify.post('/auth/logout', {
    schema: {
      tags: ['auth'],
      summary: 'End the session this refresh token belongs to',
      body: RefreshBodySchema,
      response: { 204: Type.Null(), 400: ErrorSchema }
    }
  }, async (request, reply) => {
    // 204 for an unknown token too (as RFC 7009 does): the answer must not tell tokens apart.
    const username = await fastify.store.refreshTokens.revoke(request.body.refresh_token)
    await auditSessionEnd(fastify, request, 'auth.logout', username)
    return reply.code(204).send(null)
  })
}
