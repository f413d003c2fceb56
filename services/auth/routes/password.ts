// POST /auth/password: a user changes their own password, proving the current one (through the
// login throttle, as a login does). The way out of a temporary password an admin set: such a
// password signs nobody in (403 AUTH_PASSWORD_CHANGE_REQUIRED) but is accepted here.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ErrorSchema } from '../../shared/schemas.js'
import { recordAuthEvent } from '../audit-trail.js'
import { countLoginFailures } from '../login-metrics.js'
import { hashPassword } from '../passwords.js'
import { LoginBodySchema, NewPasswordSchema } from '../schemas.js'

const PasswordChangeBodySchema = Type.Object({
  ...LoginBodySchema.properties,
  new_password: NewPasswordSchema
}, { additionalProperties: false })

export const passwordRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/auth/password', {
    onError: countLoginFailures(fastify),
    schema: {
      tags: ['auth'],
      summary: 'Change your own password (required after an administrator set a temporary one)',
      description: 'Every session of the user ends; sign in again with the new password.',
      body: PasswordChangeBodySchema,
      response: { 204: Type.Null(), 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema }
    }
  }, async (request, reply) => {
    const { username, password, new_password: newPassword } = request.body
    const user = await fastify.passwordLogin.attempt(request, reply, username, password, { temporaryAllowed: true })
    await fastify.store.userAdmin.setPassword(user.username, await hashPassword(newPassword), false)
    await recordAuthEvent(fastify, request, { actor: user.username, action: 'auth.password_change', target: user.username, outcome: 'success' })
    return reply.code(204).send(null)
  })
}
