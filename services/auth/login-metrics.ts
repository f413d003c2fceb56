// Counting failed logins by reason, from the error each failure ends with.
import type { FastifyError, FastifyInstance } from 'fastify'

/** The metric label of a failed login: what a dashboard needs, nothing that tells users apart. */
export function loginFailureReason (error: Pick<FastifyError, 'statusCode'>): string {
  switch (error.statusCode) {
    case 401: return 'invalid_credentials'
    case 429: return 'rate_limited'
    case 400: return 'bad_request'
    default: return 'error'
  }
}

/** A route onError hook that counts the failure in `auth_logins_failed_total`. */
export function countLoginFailures (fastify: FastifyInstance) {
  return async (request: unknown, reply: unknown, error: FastifyError) => {
    fastify.metrics.loginsFailed.inc({ reason: loginFailureReason(error) })
  }
}
