// buildApp: the example resource service, trusting the auth service's tokens through the verifier.
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { registerOperations } from '../shared/operations.js'
import { DEFAULT_OPERATIONS, type OperationsOptions } from '../shared/operations-config.js'
import { readinessRoutes } from '../shared/readiness.js'
import { jwksReadinessCheck } from './readiness.js'
import { resourceRoutes } from './routes.js'

export interface ResourceAppOptions {
  verifier: VerifierPluginOptions
  logger?: FastifyServerOptions['logger']
  /** Proxies and load shedding; defaults suit tests and local runs. */
  operations?: OperationsOptions
}

export async function buildApp (options: ResourceAppOptions) {
  const operations = options.operations ?? DEFAULT_OPERATIONS
  const app = Fastify({ logger: options.logger ?? false, trustProxy: operations.trustProxy }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await registerOperations(app, operations, { title: 'fastify-ssot resource service', description: 'An example service that trusts the auth service\'s access tokens.' })
  await app.register(verifier, options.verifier)
  await app.register(resourceRoutes)
  const jwksUrl = options.verifier.jwksUrl ?? `${options.verifier.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`
  const jwks = jwksReadinessCheck(app, { jwksUrl, timeout: options.verifier.fetchTimeout ?? 3000 })
  await app.register(readinessRoutes, { checks: { jwks } })
  return app
}
