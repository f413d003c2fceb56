// The OpenID Connect userinfo endpoint (Core §5.3), GET and POST: a bearer access token with the
// openid scope, checked by our own verifier plugin as a resource service checks it (keys from the
// JWKS, with this issuer as its audience). Revocations are read from the revocations table itself
// rather than the feed: the same truth, with no delay and no stream from the service to itself.
import formBody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import verifier from '../../../plugins/verifier/index.js'
import type { AccessTokenClaims } from '../../../plugins/shared/claims.js'
import { USERINFO_PATH } from './discovery.js'

export interface UserinfoOptions {
  issuer: string
  /** Where this service is reached from itself (its JWKS); default: the issuer. */
  selfUrl: string
}

const UserinfoSchema = Type.Object({
  sub: Type.String(),
  preferred_username: Type.Optional(Type.String())
}, { description: 'OpenID Connect standard claims of the signed-in user' })

const BearerErrorSchema = Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() })

export const userinfoRoutes: FastifyPluginAsync<UserinfoOptions> = async (fastify, { issuer, selfUrl }) => {
  const base = selfUrl.replace(/\/+$/, '')
  // The verifier fetches the keys when the app is ready, before it listens: that first fetch
  // fails by design and is retried, so its warnings are left out (a wrong AUTH_SELF_URL shows as
  // 503 at /userinfo, and as errors in the log).
  fastify.log = fastify.log.child({}, { level: 'error' })
  await fastify.register(verifier, {
    issuer,
    audience: issuer,
    jwksUrl: `${base}/.well-known/jwks.json`,
    revocations: false,
    realm: 'userinfo'
  })
  // A POST may come with a form body (RFC 6750 §2.2 is not supported: the token goes in the header).
  await fastify.register(formBody)
  fastify.addHook('onSend', async (request, reply) => { reply.header('cache-control', 'no-store').header('pragma', 'no-cache') })

  async function userinfo (request: FastifyRequest, reply: FastifyReply) {
    const claims = request.user as AccessTokenClaims
    const user = await fastify.store.users.findById(claims.sub)
    if (!user || user.disabled || await fastify.store.revocations.isRevoked(claims)) {
      reply.header('www-authenticate', 'Bearer realm="userinfo", error="invalid_token", error_description="The token is revoked, or its user disabled"')
      return reply.code(401).send({ statusCode: 401, code: 'USERINFO_INVALID_TOKEN', error: 'Unauthorized', message: 'The token is revoked, or its user disabled' })
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
