// Request and response schemas of the admin API.
import { Type } from '@sinclair/typebox'
import { USERNAME_MAX_LENGTH, USERNAME_PATTERN } from '../store/users.js'
import { NewPasswordSchema } from '../schemas.js'

export const Username = Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH, pattern: USERNAME_PATTERN })
export const ClientId = Type.String({ pattern: '^[\\w.:-]{1,128}$' })
const Name = Type.String({ pattern: '^[\\x21-\\x7e]{1,64}$', description: 'Printable ASCII, no spaces' })
const Instant = Type.String({ format: 'date-time' })

export const UserParams = Type.Object({ username: Username })
export const SessionParams = Type.Object({ username: Username, sessionId: Type.String({ format: 'uuid' }) })
export const ClientParams = Type.Object({ clientId: ClientId })

/**
 * A whole number in a query string, from 1 to 9999 (read with Number()). Query strings stay
 * strings: the app turns type coercion off so that bodies are strict (see services/auth/app.ts).
 */
export const Count = (description: string) => Type.String({ pattern: '^[1-9][0-9]{0,3}$', description })

export const PageQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 128 })),
  after: Type.Optional(Type.String({ maxLength: 128, description: 'The `next` of the previous page' })),
  limit: Type.Optional(Count('Items per page, at most 200 (default 50)'))
}, { additionalProperties: false })

export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  roles: Type.Array(Type.String()),
  disabled: Type.Boolean(),
  passwordChangeRequired: Type.Boolean(),
  createdAt: Type.String()
})
export const UserPage = Type.Object({ items: Type.Array(UserSchema), next: Type.Optional(Type.String()) })

export const NewUserBody = Type.Object({
  username: Username,
  password: NewPasswordSchema,
  roles: Type.Array(Name, { maxItems: 20, default: [] }),
  temporary: Type.Boolean({ default: true, description: 'The user must change this password at the next sign-in' })
}, { additionalProperties: false })

export const PasswordBody = Type.Object({
  password: NewPasswordSchema,
  temporary: Type.Boolean({ default: true, description: 'The user must change this password at the next sign-in' })
}, { additionalProperties: false })

export const RolesBody = Type.Object({ roles: Type.Array(Name, { maxItems: 20 }) }, { additionalProperties: false })

export const SessionsCount = Type.Object({ sessions: Type.Integer({ description: 'Sessions ended' }) })

export const SessionSchema = Type.Object({
  id: Type.String(), clientId: Type.String(), scope: Type.String(), createdAt: Type.String(), expiresAt: Type.String()
})

export const ClientSchema = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  audiences: Type.Array(Type.String()),
  redirectUris: Type.Array(Type.String()),
  public: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.String()
})
export const ClientPage = Type.Object({ items: Type.Array(ClientSchema), next: Type.Optional(Type.String()) })

export const NewClientBody = Type.Object({
  clientId: ClientId,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  scopes: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 50 }),
  audiences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 20 })),
  redirectUris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20, description: 'Browser sign-in: where codes may be sent (exact match)' })),
  postLogoutRedirectUris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20 })),
  public: Type.Optional(Type.Boolean({ description: 'A public client (single-page or native app): no secret, PKCE only; needs redirectUris' }))
}, { additionalProperties: false })

export const ClientSecret = Type.Object({ clientId: Type.String(), clientSecret: Type.Optional(Type.String({ description: 'Shown once: only its hash is stored (none for a public client)' })) })

export const KeySchema = Type.Object({
  kid: Type.String(),
  state: Type.Union([Type.Literal('next'), Type.Literal('active'), Type.Literal('retired')]),
  createdAt: Type.String(),
  activatedAt: Type.Optional(Type.String()),
  retiredAt: Type.Optional(Type.String())
})

export const RotateBody = Type.Object({
  force: Type.Boolean({ default: false, description: 'Promote a next key younger than JWKS_MAX_AGE + KEYS_RELOAD_INTERVAL' })
}, { additionalProperties: false })

export const RotationSchema = Type.Object({ active: Type.String(), retired: Type.String(), next: Type.String(), pruned: Type.Array(Type.String()) })

export const RevocationSchema = Type.Object({
  id: Type.Integer(),
  hash: Type.String({ description: 'base64url SHA-256 of sid:<sid> or jti:<jti>' }),
  createdAt: Type.String(),
  expiresAt: Type.String()
})

export const AuditQuery = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 200 })),
  target: Type.Optional(Type.String({ maxLength: 200 })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  since: Type.Optional(Instant),
  until: Type.Optional(Instant),
  before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'The `next` of the previous page: events older than this id' })),
  limit: Type.Optional(Count('Events per page, at most 1000 (default 100)'))
}, { additionalProperties: false })

export const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  ip: Type.String(),
  outcome: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown())
})
export const AuditPage = Type.Object({ items: Type.Array(AuditEventSchema), next: Type.Optional(Type.Integer()) })

/** The page size a query asks for, within 1..max. */
export const pageSize = (limit: string | undefined, fallback: number, max: number) => Math.min(Number(limit ?? fallback), max)
