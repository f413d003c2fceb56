// Counting failed logins by reason. Wrong credentials and throttling are counted where they are
// decided (password-login.ts); a login route counts the rest, from the error it ends with.
import type { FastifyError, FastifyInstance } from 'fastify'

/** A route onError hook: a refused body (`bad_request`) or a failure of ours (`error`) in `auth_logins_failed_total`. */
export function countLoginFailures (fastify: FastifyInstance) {
  return async (request: unknown, reply: unknown, error: FastifyError) => {
    const status = error.statusCode ?? 500
    // 401 and 429 come from passwordLogin.attempt, which has counted them.
    if (status === 401 || status === 429) return
    fastify.metrics.loginsFailed.inc({ reason: status < 500 ? 'bad_request' : 'error' })
  }
}
