// The resource service is ready once its verifier has loaded the issuer's JWKS at least once, and
// while it accepts tokens: a revocation feed that is unreachable is reported (tokens are checked
// against the last set), and fails the check only once `failClosedAfter` makes it refuse them.
import type { FastifyInstance } from 'fastify'
import type { ReadinessCheck } from '../shared/readiness.js'

export function jwksReadinessCheck (fastify: FastifyInstance): ReadinessCheck {
  return async () => fastify.verifier.stats().jwksLoaded ? undefined : 'the JWKS has not been loaded yet'
}

export function revocationsReadinessCheck (fastify: FastifyInstance): ReadinessCheck {
  return async () => {
    const { feeds, synced, failedClosed, entries, goneSeconds } = fastify.verifier.stats().revocations
    if (synced === feeds) return undefined
    const state = `the revocation feed has been unreachable for ${Math.round(goneSeconds)} s`
    if (failedClosed > 0) return `${state}: tokens are refused (REVOCATION_FAIL_CLOSED_AFTER)`
    return { degraded: `${state}; tokens are checked against the last ${entries} revocations` }
  }
}
