// The example resource routes: one protected by the verifier, as the seed defined it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../shared/schemas.js'

const ProtectedSchema = Type.Object({
  message: Type.String(),
  user: Type.Object({ userId: Type.String(), username: Type.Optional(Type.String()) })
})

export const resourceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/resource/protected', {
    onRequest: fastify.authenticate,
    schema: {
      tags: ['resource'],
      summary: 'A resource any valid access token may read',
      security: [{ bearerAuth: [] }],
      response: { 200: ProtectedSchema, 401: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request) => ({
    message: 'This is a protected resource',
    user: { userId: request.user.sub, username: request.user.username }
  }))
}
