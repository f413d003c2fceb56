// buildApp: the example resource service, trusting the auth service's tokens through the verifier.
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { HealthSchema } from '../shared/schemas.js'
import { resourceRoutes } from './routes.js'

export interface ResourceAppOptions {
  verifier: VerifierPluginOptions
  logger?: FastifyServerOptions['logger']
}

export async function buildApp (options: ResourceAppOptions) {
  const app = Fastify({ logger: options.logger ?? false }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await app.register(verifier, options.verifier)
  await app.register(resourceRoutes)
  app.get('/health', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const }))
  return app
}
