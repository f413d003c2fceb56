// Environment variables both services share for running in production: proxies, load shedding
// and the HTTP server's timeouts.
import { Type, type Static } from '@sinclair/typebox'
import { HttpEnvProperties, httpTimeouts, type HttpTimeouts } from './http-server.js'
import { MAX_PROXY_HOPS, parseTrustProxy, type TrustProxy } from './trust-proxy.js'

export const OperationsEnvProperties = {
  TRUST_PROXY: Type.String({
    default: 'false',
    description: `Trust X-Forwarded-* from: false, a hop count (the proxies in front, at most ${MAX_PROXY_HOPS}), or comma-separated proxy addresses/CIDRs ` +
      '(or loopback, linklocal, uniquelocal); refused: true (see PROXY_OVERWRITES_FORWARDED_FOR) and CIDRs that together cover every IPv4 or IPv6 address'
  }),
  PROXY_OVERWRITES_FORWARDED_FOR: Type.Boolean({
    default: false,
    description: 'Allows TRUST_PROXY=true: only if nothing but a proxy that replaces (not appends to) X-Forwarded-For can reach the service'
  }),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Answer 503 above this event-loop delay (0: off)' }),
  PRESSURE_MAX_HEAP_USED_MB: Type.Integer({ minimum: 0, default: 0, description: 'Answer 503 above this heap use (0: off)' }),
  PRESSURE_RETRY_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 10, description: 'Retry-After of a load-shedding 503' }),
  ...HttpEnvProperties
}
export const OperationsEnvSchema = Type.Object(OperationsEnvProperties)
export type OperationsEnv = Static<typeof OperationsEnvSchema>

export interface OperationsOptions {
  /** Fastify's `trustProxy`: which X-Forwarded-For hops give `request.ip`. */
  trustProxy: TrustProxy
  pressure: {
    maxEventLoopDelay: number
    maxHeapUsedBytes: number
    retryAfter: number
  }
  /** Header, request and keep-alive timeouts of the HTTP server. */
  http: HttpTimeouts
}

export function operationsOptions (env: OperationsEnv): OperationsOptions {
  return {
    trustProxy: parseTrustProxy(env.TRUST_PROXY, env.PROXY_OVERWRITES_FORWARDED_FOR),
    pressure: {
      maxEventLoopDelay: env.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: env.PRESSURE_MAX_HEAP_USED_MB * 1024 * 1024,
      retryAfter: env.PRESSURE_RETRY_AFTER_SECONDS
    },
    http: httpTimeouts(env)
  }
}
