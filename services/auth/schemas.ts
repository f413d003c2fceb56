// Request and response schemas of the auth service.
import { Type, type Static } from '@sinclair/typebox'
import { USERNAME_MAX_LENGTH, USERNAME_PATTERN } from './store/users.js'

export const LoginBodySchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH, pattern: USERNAME_PATTERN, description: 'Spaces around it and letter case do not count' }),
  password: Type.String({ minLength: 1, maxLength: 256 })
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBodySchema>

export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'DPoP when the request carried a DPoP proof: the access token is bound to its key (cnf.jkt)' }),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  refresh_token: Type.Optional(Type.String({ description: 'Opaque; single use: each refresh returns a new one' })),
  scope: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String({ description: 'OpenID Connect ID token (authorization_code with the openid scope)' }))
})

export const RefreshBodySchema = Type.Object({
  refresh_token: Type.String({ minLength: 1, maxLength: 512 })
}, { additionalProperties: false })
export type RefreshBody = Static<typeof RefreshBodySchema>
export type TokenResponse = Static<typeof TokenResponseSchema>

/** A password a person chooses or an admin sets (the rule of `npm run user:add`). */
export const NewPasswordSchema = Type.String({ minLength: 8, maxLength: 256, description: '8 to 256 characters' })
