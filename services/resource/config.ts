// The resource service's environment: one schema, validated once at start (see .env.example).
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_AUDIENCE, loadEnv, LogLevelSchema } from '../shared/config.js'
import { OperationsEnvProperties, operationsOptions } from '../shared/operations-config.js'
import type { ResourceAppOptions } from './app.js'

export const ResourceEnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  RESOURCE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  ISSUER_URL: Type.String({ pattern: '^https?://', default: 'http://localhost:3000', description: 'The only `iss` trusted' }),
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: ISSUER_URL + /.well-known/jwks.json' })),
  TOKEN_AUDIENCE: Type.String({ minLength: 1, default: DEFAULT_AUDIENCE, description: 'The `aud` required in tokens' }),
  JWKS_FETCH_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 3000 }),
  CLOCK_TOLERANCE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 5 }),
  LOG_LEVEL: Type.Union(LogLevelSchema.map((level) => Type.Literal(level)), { default: 'info' }),
  ...OperationsEnvProperties
})
export type ResourceEnv = Static<typeof ResourceEnvSchema>

export function loadResourceEnv (env: NodeJS.ProcessEnv): ResourceEnv {
  return loadEnv(ResourceEnvSchema, env)
}

export function resourceAppOptions (env: ResourceEnv): ResourceAppOptions {
  return {
    operations: operationsOptions(env),
    verifier: {
      issuer: env.ISSUER_URL,
      audience: env.TOKEN_AUDIENCE,
      ...(env.JWKS_URL && { jwksUrl: env.JWKS_URL }),
      fetchTimeout: env.JWKS_FETCH_TIMEOUT_MS,
      clockTolerance: env.CLOCK_TOLERANCE_SECONDS
    }
  }
}
