// Who may call the admin API. Every route declares its access in `config.access`:
//   read        a valid token of the admin audience with the scope admin:read
//   write       ... with admin:write
//   destructive ... with admin:write and a sign-in (`auth_time`) at most ADMIN_MAX_AUTH_AGE old
// and every one needs the role admin twice: in the token's `roles` claim (the verifier checks it,
// 403 insufficient_role) and in the database now (403 ADMIN_ROLE_REQUIRED), so removing the role
// or disabling the admin takes effect at their next request, not when their token expires.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Actor } from './actions.js'
import { AdminRoleRequiredError, ReauthRequiredError } from './errors.js'

export type Access = 'read' | 'write' | 'destructive'

export const ADMIN_ROLE = 'admin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call an admin route (see admin/guard.ts); routes without it are public (the console's pages and assets). */
    access?: Access
  }
  interface FastifyRequest {
    /** The admin calling an admin API route, for the audit trail. */
    admin: Actor
  }
}

export function adminGuard (fastify: FastifyInstance, options: { maxAuthAge: number }) {
  const readScope = fastify.requireScope('admin:read')
  const writeScope = fastify.requireScope('admin:write')
  const adminRole = fastify.requireRole(ADMIN_ROLE)
  fastify.decorateRequest('admin', null as unknown as Actor)

  /** onRequest hook: the request's token must give the route's access, else 401/403. */
  return async function checkAccess (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const access = request.routeOptions.config.access
    if (access === undefined) return
    await fastify.authenticate(request, reply)
    await (access === 'read' ? readScope : writeScope)(request)
    await adminRole(request)
    const claims = request.user
    const user = await fastify.store.users.findById(claims.sub)
    if (!user || user.disabled || !user.roles.split(' ').includes(ADMIN_ROLE)) throw new AdminRoleRequiredError()
    if (access === 'destructive') {
      const authTime = claims.auth_time
      if (authTime === undefined || Date.now() / 1000 - authTime > options.maxAuthAge) {
        // RFC 9470 (step-up authentication): the challenge says how recent a sign-in must be.
        reply.header('www-authenticate', `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age=${options.maxAuthAge}`)
        throw new ReauthRequiredError(options.maxAuthAge)
      }
    }
    request.admin = { actor: user.username, ip: request.ip }
  }
}
