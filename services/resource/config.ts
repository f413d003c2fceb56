// The resource service's environment: one schema, validated once at start (see .env.example).
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_AUDIENCE, DURATION_PATTERN, durationSeconds, loadEnv, LogLevel } from '../shared/config.js'
import { OperationsEnvProperties, operationsOptions } from '../shared/operations-config.js'
import type { ResourceAppOptions } from './app.js'

export const ResourceEnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  RESOURCE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001, description: 'Port of the resource service' }),
  ISSUER_URL: Type.String({ pattern: '^https?://', default: 'http://localhost:3000', description: 'The only `iss` trusted' }),
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: ISSUER_URL + /.well-known/jwks.json' })),
  TOKEN_AUDIENCE: Type.String({ minLength: 1, default: DEFAULT_AUDIENCE, description: 'The `aud` required in tokens' }),
  JWKS_FETCH_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 3000, description: 'A JWKS fetch is aborted after this many ms; waiting requests get 503' }),
  JWKS_COOLDOWN_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'Least time between JWKS fetches an unknown kid may cause' }),
  TOKEN_CACHE_MAX: Type.Integer({ minimum: 0, default: 0, description: 'Verified tokens kept in memory, keyed by the whole token; never past exp, dropped with their key (0: off)' }),
  REVOCATION_FEED: Type.String({
    pattern: '^(discover|off|https?://\\S+)$',
    default: 'discover',
    description: 'Where revocations come from: `discover` (the feed the issuer\'s discovery document advertises, if any), `off`, or the feed\'s URL'
  }),
  REVOCATION_FAIL_CLOSED_AFTER: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description: 'Refuse tokens (503) once the revocation feed has been unreachable this long; unset: keep accepting them against the last set'
  })),
  RESOURCE_PUBLIC_URL: Type.String({
    pattern: '^https?://[^\\s?#]+$',
    default: 'http://localhost:3001',
    description: 'This service\'s URL as clients call it (behind a proxy: the proxy\'s, with any path prefix); DPoP proofs must name it plus the path. Never taken from Host or X-Forwarded-Host'
  }),
  DPOP: Type.Union([Type.Literal('off'), Type.Literal('allowed'), Type.Literal('required')], {
    default: 'allowed', description: 'DPoP-bound tokens (RFC 9449): accepted with a proof beside Bearer tokens, required, or off (bound tokens are then refused)'
  }),
  DPOP_MAX_AGE_SECONDS: Type.Integer({ minimum: 1, maximum: 300, default: 60, description: 'A DPoP proof is accepted this long after its iat (plus CLOCK_TOLERANCE_SECONDS)' }),
  DPOP_NONCE_SECRET: Type.Optional(Type.String({
    minLength: 32, description: 'Unset: no nonces. Set: every DPoP proof must carry a server nonce derived from this secret (the same on every replica; `openssl rand -base64 32`)'
  })),
  REDIS_URL: Type.Optional(Type.String({
    pattern: '^rediss?://', description: 'The DPoP replay cache shared by the replicas of this service (unset: in this process, enough for one replica)'
  })),
  CLOCK_TOLERANCE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 5, description: 'Clock skew allowed on exp, nbf and iat' }),
  SERVICE_CLIENT_ID: Type.Optional(Type.String({ minLength: 1, description: 'This service as an OAuth client (npm run client:add)' })),
  SERVICE_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'Its secret (printed once by client:add)' })),
  TOKEN_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: ISSUER_URL + /oauth/token' })),
  ORDERS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: this service\'s own /resource/orders' })),
  LOG_LEVEL: LogLevel,
  ...OperationsEnvProperties
})
export type ResourceEnv = Static<typeof ResourceEnvSchema>

export function loadResourceEnv (env: NodeJS.ProcessEnv): ResourceEnv {
  return loadEnv(ResourceEnvSchema, env)
}

function revocationOptions (env: ResourceEnv): NonNullable<ResourceAppOptions['verifier']['revocations']> {
  if (env.REVOCATION_FEED === 'off') return false
  return {
    ...(env.REVOCATION_FEED !== 'discover' && { feedUrl: env.REVOCATION_FEED }),
    ...(env.REVOCATION_FAIL_CLOSED_AFTER !== undefined && { failClosedAfter: durationSeconds(env.REVOCATION_FAIL_CLOSED_AFTER) * 1000 })
  }
}

export function resourceAppOptions (env: ResourceEnv): ResourceAppOptions {
  const issuer = env.ISSUER_URL.replace(/\/+$/, '')
  return {
    operations: operationsOptions(env),
    ...(env.SERVICE_CLIENT_ID && env.SERVICE_CLIENT_SECRET && {
      serviceClient: { clientId: env.SERVICE_CLIENT_ID, clientSecret: env.SERVICE_CLIENT_SECRET, tokenUrl: env.TOKEN_URL ?? `${issuer}/oauth/token` }
    }),
    ordersUrl: env.ORDERS_URL ?? `http://127.0.0.1:${env.RESOURCE_PORT}/resource/orders`,
    verifier: {
      issuer: env.ISSUER_URL,
      audience: env.TOKEN_AUDIENCE,
      ...(env.JWKS_URL && { jwksUrl: env.JWKS_URL }),
      fetchTimeout: env.JWKS_FETCH_TIMEOUT_MS,
      cooldown: env.JWKS_COOLDOWN_MS,
      tokenCacheMax: env.TOKEN_CACHE_MAX,
      clockTolerance: env.CLOCK_TOLERANCE_SECONDS,
      revocations: revocationOptions(env),
      dpop: env.DPOP,
      publicUrl: env.RESOURCE_PUBLIC_URL,
      dpopMaxAge: env.DPOP_MAX_AGE_SECONDS,
      ...(env.DPOP_NONCE_SECRET !== undefined && { dpopNonceSecret: env.DPOP_NONCE_SECRET })
    },
    ...(env.REDIS_URL && { redisUrl: env.REDIS_URL })
  }
}
