// buildApp: the example resource service, trusting the auth service's tokens through the verifier.
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { HealthSchema } from '../shared/schemas.js'
import { resourceRoutes } from './routes.js'
import { createServiceTokenSource, type ServiceTokenOptions } from './service-token.js'

export interface ResourceAppOptions {
  verifier: VerifierPluginOptions
  /** This service as an OAuth client, for the service-to-service example; optional. */
  serviceClient?: Omit<ServiceTokenOptions, 'scope'>
  /** Where /resource/orders-report reads orders (this service's own /resource/orders by default). */
  ordersUrl: string
  logger?: FastifyServerOptions['logger']
}

export async function buildApp (options: ResourceAppOptions) {
  const app = Fastify({ logger: options.logger ?? false }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await app.register(verifier, options.verifier)
  const serviceToken = options.serviceClient && createServiceTokenSource({ ...options.serviceClient, scope: 'orders:read' })
  await app.register(resourceRoutes, { serviceToken, ordersUrl: options.ordersUrl })
  app.get('/health', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const }))
  return app
}
