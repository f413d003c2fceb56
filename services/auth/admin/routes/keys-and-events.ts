// /api/keys (list with state, rotate now, retire a retired key now), /api/revocations (recent events of the feed) and
// /api/audit (the audit trail: filters and paging, as JSON or as JSON lines).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../../../shared/schemas.js'
import type { AdminActions } from '../actions.js'
import { AuditPage, AuditQuery, Count, pageSize, KeySchema, RevocationSchema, RotateBody, RotationSchema } from '../schemas.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema }
const NDJSON = 'application/x-ndjson'

export const keysAndEventsRoutes: FastifyPluginAsyncTypebox<{ actions: AdminActions }> = async (fastify, { actions }) => {
  fastify.get('/api/keys', {
    config: { access: 'read' },
    schema: { tags: ['keys'], summary: 'The signing keys this replica holds, with their state', response: { 200: Type.Object({ items: Type.Array(KeySchema) }), ...errors } }
  }, async () => ({
    items: fastify.issuer.keyRing.keys().map(({ kid, state, createdAt, activatedAt, retiredAt }) => ({
      kid, state, createdAt, ...(activatedAt && { activatedAt }), ...(retiredAt && { retiredAt })
    }))
  }))

  fastify.post('/api/keys/rotate', {
    config: { access: 'destructive' },
    schema: {
      tags: ['keys'],
      summary: 'Rotate now: next → active, active → retired, a new next key; retired keys past their window are removed',
      description: '409 ISSUER_NEXT_KEY_TOO_YOUNG while the next key may not be in every verifier\'s cache yet (unless `force`). Other replicas follow within KEYS_RELOAD_INTERVAL.',
      body: RotateBody,
      response: { 200: RotationSchema, 409: ErrorSchema, ...errors }
    }
  }, async (request) => {
    const { force } = request.body
    const result = await actions.keys.rotate(request.admin, () => fastify.issuer.rotateKeys({ force }), force)
    return { active: result.active.kid, retired: result.retired.kid, next: result.next.kid, pruned: result.pruned }
  })

  fastify.post('/api/keys/:kid/retire', {
    config: { access: 'destructive' },
    schema: {
      tags: ['keys'],
      summary: 'Retire a retired key now: removed from the ring and the JWKS before its window ends (a suspected compromise)',
      description: 'Tokens it signed stop verifying once verifiers refetch the JWKS (JWKS_MAX_AGE); other replicas follow within KEYS_RELOAD_INTERVAL. ' +
        '409 ISSUER_KEY_NOT_RETIRED for the active key (rotate first) and the next key; 404 ISSUER_KEY_NOT_FOUND for a kid the ring does not hold.',
      params: Type.Object({ kid: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
      response: { 200: KeySchema, 404: ErrorSchema, 409: ErrorSchema, ...errors }
    }
  }, async (request) => actions.keys.retire(request.admin, () => fastify.issuer.retireKey(request.params.kid)))

  fastify.get('/api/revocations', {
    config: { access: 'read' },
    schema: {
      tags: ['revocations'],
      summary: 'The most recent revocation events (digests: they name no user or token)',
      querystring: Type.Object({ limit: Type.Optional(Count('Events, at most 500 (default 50)')) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(RevocationSchema) }), ...errors }
    }
  }, async (request) => ({ items: await fastify.store.revocations.recent(pageSize(request.query.limit, 50, 500)) }))

  fastify.get('/api/audit', {
    config: { access: 'read' },
    schema: {
      tags: ['audit'],
      summary: 'The audit trail, newest first, filtered by actor, target, action and time',
      description: `With \`Accept: ${NDJSON}\`: the same events as JSON lines (one object a line), for export.`,
      querystring: AuditQuery,
      response: { 200: AuditPage, ...errors }
    }
  }, async (request, reply) => {
    const { before, limit: asked, ...filters } = request.query
    const limit = pageSize(asked, 100, 1000)
    const items = await fastify.store.audit.list({ ...filters, limit, ...(before !== undefined && { before: Number(before) }) })
    if (request.headers.accept?.includes(NDJSON)) {
      // A string is sent as it is (the JSON schema above describes the JSON answer only).
      return reply.type(NDJSON).send(items.map((item) => `${JSON.stringify(item)}\n`).join('') as never)
    }
    return { items, ...(items.length === limit && { next: items.at(-1)!.id }) }
  })
}
