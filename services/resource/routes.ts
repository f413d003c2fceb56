// The example resource routes: one any valid token may read (the seed's contract), one that needs
// a scope, and one that calls another protected route with this service's own token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../shared/schemas.js'
import type { ServiceTokenSource } from './service-token.js'

const ProtectedSchema = Type.Object({
  message: Type.String(),
  user: Type.Object({ userId: Type.String(), username: Type.Optional(Type.String()) })
})
const OrdersSchema = Type.Object({
  orders: Type.Array(Type.Object({ id: Type.String(), total: Type.Number() })),
  readBy: Type.String({ description: 'The client_id of the caller' })
})
const ReportSchema = Type.Object({ orderCount: Type.Integer(), fetchedAs: Type.String() })

const NotConfiguredError = createError('RESOURCE_SERVICE_CLIENT_NOT_CONFIGURED', 'Set SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET to use this route', 503)
const UpstreamError = createError<[number]>('RESOURCE_UPSTREAM_FAILED', 'The orders service answered %d', 502)

export interface ResourceRouteOptions {
  /** This service's own token, for service-to-service calls; undefined when not configured. */
  serviceToken?: ServiceTokenSource
  ordersUrl: string
}

const EXAMPLE_ORDERS = [{ id: 'ord-1', total: 42.5 }, { id: 'ord-2', total: 17 }]

export const resourceRoutes: FastifyPluginAsyncTypebox<ResourceRouteOptions> = async (fastify, opts) => {
  const errors = { 401: ErrorSchema, 403: ErrorSchema, 503: ErrorSchema }

  fastify.get('/resource/protected', {
    onRequest: fastify.authenticate,
    schema: {
      tags: ['resource'],
      summary: 'A resource any valid access token may read',
      security: [{ bearerAuth: [] }],
      response: { 200: ProtectedSchema, ...errors }
    }
  }, async (request) => ({
    message: 'This is a protected resource',
    user: { userId: request.user.sub, username: request.user.username }
  }))

  fastify.get('/resource/orders', {
    onRequest: fastify.authenticate,
    preHandler: fastify.requireScope('orders:read'),
    schema: {
      tags: ['resource'],
      summary: 'Orders: needs the scope orders:read',
      security: [{ bearerAuth: ['orders:read'] }],
      response: { 200: OrdersSchema, ...errors }
    }
  }, async (request) => ({ orders: EXAMPLE_ORDERS, readBy: request.user.client_id }))

  fastify.get('/resource/orders-report', {
    onRequest: fastify.authenticate,
    schema: {
      tags: ['resource'],
      summary: 'Service to service: reads /resource/orders with this service\'s own client_credentials token',
      security: [{ bearerAuth: [] }],
      response: { 200: ReportSchema, 502: ErrorSchema, ...errors }
    }
  }, async () => {
    if (!opts.serviceToken) throw new NotConfiguredError()
    const response = await fetch(opts.ordersUrl, {
      headers: { authorization: `Bearer ${await opts.serviceToken.accessToken()}` },
      signal: AbortSignal.timeout(3000)
    })
    if (!response.ok) throw new UpstreamError(response.status)
    const { orders, readBy } = await response.json() as { orders: unknown[], readBy: string }
    return { orderCount: orders.length, fetchedAs: readBy }
  })
}
