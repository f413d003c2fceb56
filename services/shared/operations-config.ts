// Environment variables both services share for running in production: proxies and load shedding.
import { Type, type Static } from '@sinclair/typebox'

export const OperationsEnvProperties = {
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'Trust X-Forwarded-* from: false, true, a hop count, or comma-separated proxy addresses/CIDRs'
  }),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Answer 503 above this event-loop delay (0: off)' }),
  PRESSURE_MAX_HEAP_USED_MB: Type.Integer({ minimum: 0, default: 0, description: 'Answer 503 above this heap use (0: off)' }),
  PRESSURE_RETRY_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 10, description: 'Retry-After of a load-shedding 503' })
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
}

/** `false`, `true`, `2` (hops) or `10.0.0.1,10.0.0.0/8` → Fastify's `trustProxy`. */
export function parseTrustProxy (value: string): TrustProxy {
  const text = value.trim()
  if (text === '' || text === 'false') return false
  if (text === 'true') return true
  if (/^[0-9]+$/.test(text)) {
    // Fastify's types take no hop count: trust the first `hops` proxies, as proxy-addr would.
    const hops = Number(text)
    return (address, hop) => hop < hops
  }
  return text
}

export function operationsOptions (env: OperationsEnv): OperationsOptions {
  return {
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    pressure: {
      maxEventLoopDelay: env.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: env.PRESSURE_MAX_HEAP_USED_MB * 1024 * 1024,
      retryAfter: env.PRESSURE_RETRY_AFTER_SECONDS
    }
  }
}
