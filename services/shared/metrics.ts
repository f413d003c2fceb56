// GET /metrics (Prometheus text) from a prom-client registry owned by this app instance, so two
// apps in one process (tests, embedders) never mix their numbers in the global registry.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { Type } from '@sinclair/typebox'
// For `fastify.verifier` in the app that registers the verifier (the types only).
import type {} from '../../plugins/verifier/index.js'

const VERIFIER_CODES = new Set(['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_JWKS_UNAVAILABLE'])

/** Why the verifier refused a request (the `reason` every verifier error carries), else undefined. */
export function verifierReason (err: { code?: string, reason?: string }): string | undefined {
  return err.code !== undefined && VERIFIER_CODES.has(err.code) ? err.reason : undefined
}

function keyRingMetrics (fastify: FastifyInstance, register: Registry) {
  return [new Gauge({
    name: 'issuer_signing_keys',
    help: 'Keys of the issuer key ring, by kid and state (1 per key)',
    labelNames: ['kid', 'state'],
    registers: [register],
    collect () {
      this.reset()
      for (const key of fastify.issuer.keyRing.keys()) this.set({ kid: key.kid, state: key.state }, 1)
    }
  }), new Gauge({
    name: 'issuer_active_key_age_seconds',
    help: 'Seconds since the active signing key was created',
    registers: [register],
    collect () {
      this.set((Date.now() - Date.parse(fastify.issuer.keyRing.activeKey().createdAt)) / 1000)
    }
  })]
}

function jwksFetchMetrics (fastify: FastifyInstance, register: Registry) {
  return new Counter({
    name: 'verifier_jwks_fetches_total',
    help: 'JWKS fetches by the verifier, by outcome',
    labelNames: ['outcome'],
    registers: [register],
    collect () {
      this.reset()
      for (const [outcome, count] of Object.entries(fastify.verifier.stats().jwksFetches)) this.inc({ outcome }, count)
    }
  })
}

function createMetrics (fastify: FastifyInstance) {
  const register = new Registry()
  const labelNames = ['method', 'route', 'status_code']
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route', labelNames, registers: [register] })
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [register]
  })
  return {
    register,
    requests,
    latency,
    verifierResults: new Counter({
      name: 'verifier_results_total',
      help: 'Requests checked by the verifier, by result (ok or the reason of the refusal)',
      labelNames: ['result'],
      registers: [register]
    }),
    /** Access tokens signed, by grant (`password`, `refresh_token`, `client_credentials`). */
    tokensIssued: new Counter({ name: 'auth_tokens_issued_total', help: 'Access tokens issued, by grant', labelNames: ['grant'], registers: [register] }),
    /** Failed logins by reason; never by "unknown user" vs "wrong password" (that would enumerate users). */
    loginsFailed: new Counter({ name: 'auth_logins_failed_total', help: 'Failed logins, by reason', labelNames: ['reason'], registers: [register] })
  }
}

async function metricsPlugin (fastify: FastifyInstance) {
  const metrics = createMetrics(fastify)
  fastify.decorate('metrics', metrics)
  // The issuer and the verifier register after this plugin: look for them once all are loaded.
  fastify.addHook('onReady', async () => {
    if (fastify.hasDecorator('issuer')) keyRingMetrics(fastify, metrics.register)
    if (fastify.hasDecorator('verifier')) jwksFetchMetrics(fastify, metrics.register)
  })

  // Callback hooks, not async ones: they run on every request, and a promise each costs more than they do.
  fastify.addHook('onError', (request: FastifyRequest, reply: FastifyReply, error: FastifyError & { reason?: string }, done) => {
    const reason = verifierReason(error)
    if (reason !== undefined) metrics.verifierResults.inc({ result: reason })
    done()
  })
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode }
    metrics.requests.inc(labels)
    metrics.latency.observe(labels, reply.elapsedTime / 1000)
    // The verifier sets request.user (null until then) only after a successful verification.
    if ((request as { user?: unknown }).user) metrics.verifierResults.inc({ result: 'ok' })
    done()
  })

  fastify.get('/metrics', {
    // Monitoring must keep working while the service sheds load.
    config: { pressureHandler: () => undefined },
    schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: Type.String() } }
  }, async (request, reply) => {
    return reply.type(metrics.register.contentType).send(await metrics.register.metrics())
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ReturnType<typeof createMetrics>
  }
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
