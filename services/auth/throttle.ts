// Login throttling (login-throttle.ts) over its counters: in Redis when REDIS_URL is set, so the
// limits hold across replicas; in this process otherwise. If Redis cannot be reached, the counters
// fall back to this process with a warning: logins keep working (fail safe, not fail closed),
// limits become per replica.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { failSafeCounters } from './counters.js'
import { localCounters } from './local-counters.js'
import { createLoginThrottle, REDIS_KEY_PREFIX, type LoginThrottle, type LoginThrottleOptions } from './login-throttle.js'
import { redisCounters } from './redis-counters.js'
import { throttledWarning } from '../shared/throttled-warning.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Admits or refuses each login attempt (see login-throttle.ts). */
    loginThrottle: LoginThrottle
  }
}

export interface ThrottlePluginOptions extends LoginThrottleOptions {
  /** Shared counters for several replicas; unset: counted in this process. */
  redisUrl?: string
}

async function throttlePlugin (fastify: FastifyInstance, options: ThrottlePluginOptions) {
  if (!options.redisUrl) {
    fastify.decorate('loginThrottle', createLoginThrottle(localCounters(), options))
    return
  }

  // No offline queue and one attempt per command: while Redis is down, commands fail at once
  // (and fall back) instead of piling up behind a reconnecting client.
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  redis.on('error', throttledWarning(fastify.log, 'Redis unreachable; it will be retried'))
  fastify.addHook('onClose', async () => { redis.disconnect() })
  const warn = throttledWarning(fastify.log, 'Redis unreachable: login throttling counts in this process only')
  const counters = failSafeCounters(redisCounters(redis, REDIS_KEY_PREFIX), localCounters(), warn)
  fastify.decorate('loginThrottle', createLoginThrottle(counters, options))
}

export default fp(throttlePlugin, { name: 'throttle', fastify: '5.x' })
