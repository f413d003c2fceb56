// Environment variables both services share for running in production: proxies, load shedding
// and the HTTP server's timeouts.
import { Type, type Static } from '@sinclair/typebox'
import { HttpEnvProperties, httpTimeouts, type HttpTimeouts } from './http-server.js'

export const OperationsEnvProperties = {
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'Trust X-Forwarded-* from: false, a hop count (the proxies in front), or comma-separated proxy addresses/CIDRs; true is refused (see PROXY_OVERWRITES_FORWARDED_FOR)'
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

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean)

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

const TRUST_ANY_REFUSED = 'Invalid configuration: TRUST_PROXY=true lets every client choose its own address with X-Forwarded-For ' +
  '(and so escape the per-address login limits); set TRUST_PROXY to the number of proxies in front (e.g. 1) or their ' +
  'addresses/CIDRs (e.g. 10.0.0.0/8), or set PROXY_OVERWRITES_FORWARDED_FOR=true if only a proxy that overwrites that header can reach this service'

/** `false`, `2` (hops) or `10.0.0.1,10.0.0.0/8` → Fastify's `trustProxy`; `true` only with `overwritten` (see TRUST_ANY_REFUSED). */
export function parseTrustProxy (value: string, overwritten = false): TrustProxy {
  const text = value.trim()
  if (text === '' || text === 'false') return false
  if (text === 'true') {
    if (!overwritten) throw new Error(TRUST_ANY_REFUSED)
    return true
  }
  if (/^[0-9]+$/.test(text)) {
    // Fastify's types take no hop count: trust the first `hops` proxies, as proxy-addr would.
    const hops = Number(text)
    return (address, hop) => hop < hops
  }
  return text
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
