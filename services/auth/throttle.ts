// Login throttling counters: in Redis when REDIS_URL is set, so the limits hold across replicas;
// in this process otherwise. If Redis cannot be reached, the counters fall back to this process
// with a warning: logins keep working (fail safe, not fail closed), limits become per replica.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { failSafeCounters, localCounters, redisCounters, type Counters } from './counters.js'

const KEY_PREFIX = 'ssot-login:'
const WARN_EVERY_MS = 10_000

declare module 'fastify' {
  interface FastifyInstance {
    /** The failure counters login throttling keeps (see login-throttle.ts). */
    loginCounters: Counters
  }
}

/** Calls `log` at most once per interval, so an outage is one warning every few seconds, not one per request. */
function throttledWarning (log: FastifyBaseLogger, message: string) {
  let last = 0
  return (err: Error) => {
    if (Date.now() - last < WARN_EVERY_MS) return
    last = Date.now()
    log.warn({ err: err.message }, message)
  }
}

async function throttlePlugin (fastify: FastifyInstance, options: { redisUrl?: string }) {
  if (!options.redisUrl) {
    fastify.decorate('loginCounters', localCounters())
    return
  }

  // No offline queue and one attempt per command: while Redis is down, commands fail at once
  // (and fall back) instead of piling up behind a reconnecting client.
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  redis.on('error', throttledWarning(fastify.log, 'Redis unreachable; it will be retried'))
  fastify.addHook('onClose', async () => { redis.disconnect() })
  const warn = throttledWarning(fastify.log, 'Redis unreachable: login throttling counts in this process only')
  fastify.decorate('loginCounters', failSafeCounters(redisCounters(redis, KEY_PREFIX), localCounters(), warn))
}

export default fp(throttlePlugin, { name: 'throttle', fastify: '5.x' })
