// buildApp: the whole auth service, without listening (tests build it; server.ts runs it).
import Fastify, { type FastifyServerOptions } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import issuer from '../../plugins/issuer/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { registerOperations } from '../shared/operations.js'
import { DEFAULT_OPERATIONS, type OperationsOptions } from '../shared/operations-config.js'
import { readinessRoutes } from '../shared/readiness.js'
import { authReadinessChecks } from './readiness.js'
import { loginRoutes, type LoginRouteOptions } from './routes/login.js'
import store from './store/index.js'

export interface AuthAppOptions {
  issuer: string
  audience: string
  accessTokenTtl: number
  keysDir: string
  jwksMaxAge: number
  databaseUrl: string
  login: LoginRouteOptions
  logger?: FastifyServerOptions['logger']
  /** Proxies and load shedding; defaults suit tests and local runs. */
  operations?: OperationsOptions
}

export async function buildApp (options: AuthAppOptions) {
  const operations = options.operations ?? DEFAULT_OPERATIONS
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: operations.trustProxy,
    // Strict bodies: `password: true` is a 400, not the string "true"; unknown fields are refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler(errorHandler)
  await registerOperations(app, operations, { title: 'fastify-ssot auth service', description: 'Logs users in and signs their access tokens; publishes the JWKS.' })
  await app.register(rateLimit, { global: false })
  await app.register(store, { url: options.databaseUrl })
  await app.register(issuer, {
    issuer: options.issuer,
    audience: options.audience,
    accessTokenTtl: options.accessTokenTtl,
    keysDir: options.keysDir,
    jwksMaxAge: options.jwksMaxAge
  })
  await app.register(loginRoutes, options.login)
  await app.register(readinessRoutes, { checks: authReadinessChecks(app) })
  return app
}

export type AuthApp = Awaited<ReturnType<typeof buildApp>>
