// /api/clients: list and search, create, disable and enable, delete, rotate the secret.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../../../shared/schemas.js'
import type { AdminActions } from '../actions.js'
import { ClientExistsError, ClientNotFoundError, ClientReservedError } from '../errors.js'
import { ClientPage, ClientParams, ClientSecret, NewClientBody, PageQuery, pageSize } from '../schemas.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }
const tags = ['clients']
const Changed = Type.Object({ changed: Type.Boolean({ description: 'false: it already was in that state' }) })

export interface ClientRouteOptions {
  actions: AdminActions
  /** LOGIN_CLIENT_ID: the public client of first-party logins, never registered as a confidential one. */
  loginClientId: string
  /** TOKEN_AUDIENCE: a new client's audience when none is given. */
  defaultAudience: string
}

export const clientRoutes: FastifyPluginAsyncTypebox<ClientRouteOptions> = async (fastify, { actions, loginClientId, defaultAudience }) => {
  const changed = (change: 'done' | 'unchanged' | 'unknown') => {
    if (change === 'unknown') throw new ClientNotFoundError()
    return { changed: change === 'done' }
  }

  fastify.get('/api/clients', {
    config: { access: 'read' },
    schema: { tags, summary: 'Clients, in client_id order; `search` matches the start of the client_id', querystring: PageQuery, response: { 200: ClientPage, ...errors } }
  }, async (request) => {
    const limit = pageSize(request.query.limit, 50, 200)
    const items = await fastify.store.clientAdmin.list({ ...request.query, limit })
    return { items, ...(items.length === limit && { next: items.at(-1)!.clientId }) }
  })

  fastify.post('/api/clients', {
    config: { access: 'write' },
    schema: { tags, summary: 'Register a client: confidential (client_credentials, or browser sign-in with redirectUris; its secret is in the answer, once) or public (PKCE only)', body: NewClientBody, response: { 201: ClientSecret, 409: ErrorSchema, ...errors } }
  }, async (request, reply) => {
    const { clientId, name, audiences, ...rest } = request.body
    if (clientId === loginClientId) throw new ClientReservedError(clientId)
    if (await fastify.store.clientAdmin.exists(clientId)) throw new ClientExistsError()
    const { clientSecret } = await actions.clients.create(request.admin, { clientId, name: name ?? clientId, audiences: audiences ?? [defaultAudience], ...rest })
    return reply.code(201).header('cache-control', 'no-store').send({ clientId, ...(clientSecret !== undefined && { clientSecret }) })
  })

  fastify.post('/api/clients/:clientId/disable', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'Disable: no more tokens, and the ones it holds are revoked', params: ClientParams, response: { 200: Changed, ...errors } }
  }, async (request) => changed(await actions.clients.disable(request.admin, request.params.clientId)))

  fastify.post('/api/clients/:clientId/enable', {
    config: { access: 'write' },
    schema: { tags, summary: 'Enable: it may get tokens again', params: ClientParams, response: { 200: Changed, ...errors } }
  }, async (request) => changed(await actions.clients.enable(request.admin, request.params.clientId)))

  fastify.delete('/api/clients/:clientId', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'Delete the client; its tokens are revoked', params: ClientParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    if (!await actions.clients.remove(request.admin, request.params.clientId)) throw new ClientNotFoundError()
    return reply.code(204).send(null)
  })

  fastify.post('/api/clients/:clientId/rotate-secret', {
    config: { access: 'destructive' },
    schema: { tags, summary: 'A new secret (in the answer, once); the old one stops working and its tokens are revoked', params: ClientParams, response: { 200: ClientSecret, ...errors } }
  }, async (request, reply) => {
    const rotated = await actions.clients.rotateSecret(request.admin, request.params.clientId)
    if (!rotated) throw new ClientNotFoundError()
    return reply.header('cache-control', 'no-store').send({ clientId: request.params.clientId, clientSecret: rotated.clientSecret })
  })
}
