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

/** A session ended by its own refresh token (logout, RFC 7009 revocation): recorded when the token was known (`username` set). */
export async function auditSessionEnd (fastify: FastifyInstance, request: FastifyRequest, action: string, username: string | undefined, actor?: string): Promise<void> {
  if (username === undefined) return
  await recordAuthEvent(fastify, request, { actor: actor ?? username, action, target: username, outcome: 'success', detail: { token: 'refresh_token' } })
}
