// The OpenID Connect userinfo endpoint (Core §5.3), GET and POST: a bearer access token with the
// openid scope, checked by our own verifier plugin exactly as a resource service checks it (keys
// from the JWKS, revocations from the feed), with this issuer as its audience.
import formBody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import verifier from '../../../plugins/verifier/index.js'
import type { AccessTokenClaims } from '../../../plugins/shared/claims.js'
import { USERINFO_PATH } from './discovery.js'

export interface UserinfoOptions {
  issuer: string
  /** Where this service is reached from itself (its JWKS and revocation feed); default: the issuer. */
  selfUrl: string
}

const UserinfoSchema = Type.Object({
  sub: Type.String(),
  preferred_username: Type.Optional(Type.String())
}, { description: 'OpenID Connect standard claims of the signed-in user' })

const BearerErrorSchema = Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() })

export const userinfoRoutes: FastifyPluginAsync<UserinfoOptions> = async (fastify, { issuer, selfUrl }) => {
  const base = selfUrl.replace(/\/+$/, '')
  await fastify.register(verifier, {
    issuer,
    audience: issuer,
    jwksUrl: `${base}/.well-known/jwks.json`,
    revocations: { feedUrl: `${base}/revocations` },
    realm: 'userinfo'
  })
  // A POST may come with a form body (RFC 6750 §2.2 is not supported: the token goes in the header).
  await fastify.register(formBody)
  fastify.addHook('onSend', async (request, reply) => { reply.header('cache-control', 'no-store').header('pragma', 'no-cache') })

  async function userinfo (request: FastifyRequest, reply: FastifyReply) {
    const claims = request.user as AccessTokenClaims
    const user = await fastify.store.users.findById(claims.sub)
    if (!user || user.disabled) {
      reply.header('www-authenticate', 'Bearer realm="userinfo", error="invalid_token", error_description="The user no longer exists or is disabled"')
      return reply.code(401).send({ statusCode: 401, code: 'USERINFO_INVALID_TOKEN', error: 'Unauthorized', message: 'The user no longer exists or is disabled' })
    }
    const profile = claims.scope.split(' ').includes('profile')
    return { sub: user.id, ...(profile && { preferred_username: user.username }) }
  }

  const schema = {
    tags: ['sign-in'],
    summary: 'OpenID Connect userinfo: the signed-in user (a bearer access token with the openid scope)',
    security: [{ bearerAuth: [] }],
    response: { 200: UserinfoSchema, 401: BearerErrorSchema, 403: BearerErrorSchema }
  }
  const guards = { onRequest: fastify.authenticate, preHandler: fastify.requireScope('openid') }
  fastify.get(USERINFO_PATH, { ...guards, schema }, userinfo)
  fastify.post(USERINFO_PATH, { ...guards, schema }, userinfo)
}
