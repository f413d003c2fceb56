// buildApp: the example resource service, trusting the auth service's tokens through the verifier.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Redis } from 'ioredis'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifier, { type VerifiedClaims, type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { notFoundHandler } from '../shared/framework-errors.js'
import { serverOptions } from '../shared/http-server.js'
import { RequestLogController } from '../shared/logging.js'
import { registerOperations } from '../shared/operations.js'
import type { OperationsOptions } from '../shared/operations-config.js'
import { readinessRoutes } from '../shared/readiness.js'
import { throttledWarning } from '../shared/throttled-warning.js'
import { jwksReadinessCheck, revocationsReadinessCheck } from './readiness.js'
import { resourceRoutes } from './routes.js'
import { createServiceTokenSource, type ServiceTokenOptions } from './service-token.js'

export interface ResourceAppOptions {
  verifier: VerifierPluginOptions
  /** This service as an OAuth client, for the service-to-service example; optional. */
  serviceClient?: Omit<ServiceTokenOptions, 'scope'>
  /** Where /resource/orders-report reads orders (this service's own /resource/orders by default). */
  ordersUrl: string
  logger?: FastifyServerOptions['logger']
  /** Proxies and load shedding (from the environment: `operationsOptions`). */
  operations: OperationsOptions
  /** Redis for the DPoP replay cache shared by replicas; unset: in this process. */
  redisUrl?: string
}

export async function buildApp (options: ResourceAppOptions) {
  const operations = options.operations
  const app = Fastify({
    logger: options.logger ?? false, logController: new RequestLogController(), trustProxy: operations.trustProxy, ...serverOptions(operations.http)
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  // Fastify parses text/plain by default; no route here takes it, so it is 415, not a 400 from the schema.
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler(notFoundHandler())
  await registerOperations(app, operations, { title: 'fastify-ssot resource service', description: 'An example service that trusts the auth service\'s access tokens.' })
  await app.register(verifier, { ...options.verifier, ...(options.redisUrl && { dpopReplay: { redis: dpopRedis(app, options.redisUrl) } }) })
  const serviceToken = options.serviceClient && createServiceTokenSource({ ...options.serviceClient, scope: 'orders:read' })
  await app.register(resourceRoutes, { serviceToken, ordersUrl: options.ordersUrl })
  await app.register(readinessRoutes, { checks: { jwks: jwksReadinessCheck(app), revocations: revocationsReadinessCheck(app) } })
  return app
}

/** The DPoP replay cache's Redis client: a command fails fast while Redis is down (the verifier answers 503), closed with the app. */
function dpopRedis (app: FastifyInstance, url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  redis.on('error', throttledWarning(app.log, 'Redis (DPoP replay cache) unreachable; DPoP requests get 503 until it is back'))
  app.addHook('onClose', async () => { redis.disconnect() })
  return redis
}

// request.user holds the verified claims in this service: the verifier leaves that type to the
// app, as @fastify/jwt does (see the verifier's README, TypeScript).
declare module '@fastify/jwt' {
  interface FastifyJWT {
    user: VerifiedClaims
  }
}
