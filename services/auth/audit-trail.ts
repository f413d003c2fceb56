// Writes authentication events to the audit trail (store/audit.ts): sign-in success, failure and
// throttling, logout, revocation. A failure to write one is logged and never fails the request it
// describes: signing in must not depend on the audit table. Admin changes are recorded by
// admin/actions.ts. Nothing secret goes in: usernames, client ids, subjects and reasons only.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditInput } from './store/audit.js'

export async function recordAuthEvent (fastify: FastifyInstance, request: FastifyRequest, event: Omit<AuditInput, 'ip'>): Promise<void> {
  try {
    await fastify.store.audit.record({ ...event, ip: request.ip })
  } catch (err) {
    request.log.warn({ err: (err as Error).message, action: event.action }, 'audit event not recorded')
  }
}

/** A session ended by its own refresh token (logout, RFC 7009 revocation): recorded when the token was known. */
export async function auditSessionEnd (fastify: FastifyInstance, request: FastifyRequest, action: string, userId: string | undefined, actor?: string): Promise<void> {
  if (userId === undefined) return
  const user = await fastify.store.users.findById(userId)
  const name = user?.username ?? userId
  await recordAuthEvent(fastify, request, { actor: actor ?? name, action, target: name, outcome: 'success', detail: { token: 'refresh_token' } })
}
