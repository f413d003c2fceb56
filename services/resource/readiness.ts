// The resource service is ready once its verifier has loaded the issuer's JWKS at least once.
import type { FastifyInstance } from 'fastify'
import type { ReadinessCheck } from '../shared/readiness.js'
import { verifierStats } from '../shared/metrics.js'

export interface JwksReadinessOptions {
  jwksUrl: string
  /** ms to wait for the JWKS when this check fetches it itself. */
  timeout: number
}

/**
 * With a verifier that reports stats, its own "JWKS loaded" flag; otherwise this check fetches
 * the JWKS itself until one fetch has succeeded.
 */
export function jwksReadinessCheck (fastify: FastifyInstance, options: JwksReadinessOptions): ReadinessCheck {
  let loaded = false
  return async () => {
    const stats = verifierStats(fastify)
    if (stats) return stats.jwksLoaded ? undefined : 'the JWKS has not been loaded yet'
    if (loaded) return undefined
    try {
      const response = await fetch(options.jwksUrl, { redirect: 'error', signal: AbortSignal.timeout(options.timeout) })
      if (!response.ok) return `the JWKS at ${options.jwksUrl} answered ${response.status}`
      loaded = true
      return undefined
    } catch (err) {
      return `the JWKS at ${options.jwksUrl} is unreachable (${(err as Error).name})`
    }
  }
}
