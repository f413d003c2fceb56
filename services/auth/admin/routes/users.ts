// /api/users: list and search, create, disable and enable, delete, set a password, clear login
// throttling, roles; a user's sessions, ending one or all.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../../../shared/schemas.js'
import type { AdminActions } from '../actions.js'
import { SessionNotFoundError, UserExistsError, UserNotFoundError } from '../errors.js'
import {
  NewUserBody, PageQuery, pageSize, PasswordBody, RolesBody, SessionParams, SessionSchema, SessionsCount, UserPage, UserParams
} from '../schemas.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }
const tags = ['users']

export const userRoutes: FastifyPluginAsyncTypebox<{ actions: AdminActions }> = async (fastify, { actions }) => {
  const { userAdmin } = fastify.store

  const found = <T>(result: T | undefined | false): T => {
    if (result === undefined || result === false) throw new UserNotFoundError()
    return result
  }

  fastify.get('/api/users', {
    config: { access: 'read' },
    schema: { tags, summary: 'Users, in username order; `search` matches the start of the username', querystring: PageQuery, response: { 200: UserPage, ...errors } }
  }, async (request) => {
    const limit = pageSize(request.query.limit, 50, 200)
    const items = await userAdmin.list({ ...request.query, limit })
    return { items, ...(items.length === limit && { next: items.at(-1)!.username }) }
  })

  fastify.post('/api/users', {
    config: { access: 'write' },
    schema: { tags, summary: 'Create a user (by default with a temporary password to change at the first sign-in)', body: NewUserBody, response: { 201: Type.Object({ username: Type.String() }), 409: ErrorSchema, ...errors } }
  }, async (request, reply) => {
    const { username, password, roles, temporary } = request.body
    if (!await actions.users.create(request.admin, { username, password, roles, temporary })) throw new UserExistsError()
    const created = await fastify.store.users.findByUsername(username)
    return reply.code(201).send({ username: created!.username })
  })

  fastify.post('/api/users/:username/disable', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'Disable: no more sign-ins, and every session ends (its access tokens are revoked)', params: UserParams, response: { 200: SessionsCount, ...errors } }
  }, async (request) => found(await actions.users.disable(request.admin, request.params.username)))

  fastify.post('/api/users/:username/enable', {
    config: { access: 'write' },
    schema: { tags, summary: 'Enable: the user may sign in again', params: UserParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    found(await actions.users.enable(request.admin, request.params.username))
    return reply.code(204).send(null)
  })

  fastify.delete('/api/users/:username', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'Delete the user; every session ends', params: UserParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    found(await actions.users.remove(request.admin, request.params.username))
    return reply.code(204).send(null)
  })

  fastify.put('/api/users/:username/password', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'Set a new password (temporary by default: the user must change it at the next sign-in); every session ends', params: UserParams, body: PasswordBody, response: { 200: SessionsCount, ...errors } }
  }, async (request) => found(await actions.users.setPassword(request.admin, request.params.username, request.body.password, request.body.temporary)))

  fastify.put('/api/users/:username/roles', {
    config: { access: 'write' },
    schema: { tags, summary: 'Replace the user\'s roles (tokens issued from now on carry them)', params: UserParams, body: RolesBody, response: { 200: RolesBody, ...errors } }
  }, async (request) => {
    found(await actions.users.setRoles(request.admin, request.params.username, request.body.roles))
    return { roles: [...new Set(request.body.roles)] }
  })

  fastify.post('/api/users/:username/unlock', {
    config: { access: 'write' },
    schema: { tags, summary: 'Clear the user\'s login throttling on every replica', params: UserParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    found(await actions.users.unlock(request.admin, request.params.username, (username) => fastify.loginThrottle.unlock(username)))
    return reply.code(204).send(null)
  })

  fastify.get('/api/users/:username/sessions', {
    config: { access: 'read' },
    schema: { tags, summary: 'The user\'s live sessions, newest first', params: UserParams, response: { 200: Type.Object({ items: Type.Array(SessionSchema) }), ...errors } }
  }, async (request) => ({ items: found(await userAdmin.sessions(request.params.username)) }))

  fastify.delete('/api/users/:username/sessions', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'End every session of the user (they may sign in again)', params: UserParams, response: { 200: SessionsCount, ...errors } }
  }, async (request) => found(await actions.users.revokeSessions(request.admin, request.params.username)))

  fastify.delete('/api/users/:username/sessions/:sessionId', {
    config: { access: 'write' },
    schema: { tags, summary: 'End one session of the user', params: SessionParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    if (!await actions.users.revokeSession(request.admin, request.params.username, request.params.sessionId)) throw new SessionNotFoundError()
    return reply.code(204).send(null)
  })
}
