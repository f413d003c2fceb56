// The auth service's environment: one schema, validated once at start (see .env.example).
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_AUDIENCE, DURATION_PATTERN, durationSeconds, loadEnv, LogLevelSchema } from '../shared/config.js'
import { OperationsEnvProperties, operationsOptions } from '../shared/operations-config.js'
import type { AuthAppOptions } from './app.js'

const Duration = (fallback: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: fallback, description: `${description} (e.g. 90s, 15m, 12h)` })

export const AuthEnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  AUTH_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  ISSUER_URL: Type.String({ pattern: '^https?://', default: 'http://localhost:3000', description: 'The `iss` of every token' }),
  TOKEN_AUDIENCE: Type.String({ minLength: 1, default: DEFAULT_AUDIENCE, description: 'The `aud` of every token' }),
  ACCESS_TOKEN_TTL: Duration('15m', 'Access token lifetime'),
  KEYS_DIR: Type.String({ minLength: 1, default: './keys', description: 'Folder of the PEM key ring' }),
  JWKS_MAX_AGE: Duration('5m', 'How long verifiers may cache the JWKS'),
  DATABASE_URL: Type.String({ pattern: '^(sqlite:|postgres(ql)?://)', default: 'sqlite:./data/auth.sqlite' }),
  LOG_LEVEL: Type.Union(LogLevelSchema.map((level) => Type.Literal(level)), { default: 'info' }),
  LOGIN_CLIENT_ID: Type.String({ minLength: 1, default: 'first-party-login', description: '`client_id` of tokens from /auth/login' }),
  LOGIN_SCOPE: Type.String({ default: 'profile', description: '`scope` of tokens from /auth/login' }),
  LOGIN_MAX_PER_IP: Type.Integer({ minimum: 1, default: 20, description: 'Login attempts per client address per window' }),
  LOGIN_MAX_PER_USERNAME: Type.Integer({ minimum: 1, default: 10, description: 'Login attempts per username per window' }),
  LOGIN_RATE_WINDOW: Duration('1m', 'Login throttling window'),
  DEMO_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'With DEMO_PASSWORD: a user created at start if missing' })),
  DEMO_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  ...OperationsEnvProperties
})
export type AuthEnv = Static<typeof AuthEnvSchema>

export function loadAuthEnv (env: NodeJS.ProcessEnv): AuthEnv {
  return loadEnv(AuthEnvSchema, env)
}

/** What buildApp needs, from a validated environment. */
export function authAppOptions (env: AuthEnv): AuthAppOptions {
  return {
    issuer: env.ISSUER_URL,
    audience: env.TOKEN_AUDIENCE,
    accessTokenTtl: durationSeconds(env.ACCESS_TOKEN_TTL),
    keysDir: env.KEYS_DIR,
    jwksMaxAge: durationSeconds(env.JWKS_MAX_AGE),
    databaseUrl: env.DATABASE_URL,
    operations: operationsOptions(env),
    login: {
      clientId: env.LOGIN_CLIENT_ID,
      scope: env.LOGIN_SCOPE,
      maxPerIp: env.LOGIN_MAX_PER_IP,
      maxPerUsername: env.LOGIN_MAX_PER_USERNAME,
      rateWindow: durationSeconds(env.LOGIN_RATE_WINDOW)
    }
  }
}
