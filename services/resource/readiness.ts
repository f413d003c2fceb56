// The resource service is ready once its verifier has loaded the issuer's JWKS at least once.
import type { FastifyInstance } from 'fastify'
import type { ReadinessCheck } from '../shared/readiness.js'

export function jwksReadinessCheck (fastify: FastifyInstance): ReadinessCheck {
  return async () => fastify.verifier.stats().jwksLoaded ? undefined : 'the JWKS has not been loaded yet'
}
