// Login throttling counters: in Redis when REDIS_URL is set, so the limits hold across replicas;
// in this process otherwise. If Redis cannot be reached, the counters fall back to this process
// with a warning: logins keep working (fail safe, not fail closed), limits become per replica.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import LocalStore from '@fastify/rate-limit/store/LocalStore.js'
import RedisStore from '@fastify/rate-limit/store/RedisStore.js'
import { Redis } from 'ioredis'

type Callback = Parameters<LocalStore['incr']>[1]
interface LimiterParams { continueExceeding: boolean, exponentialBackoff: boolean, routeInfo?: { method?: string, url?: string } }

const KEY_PREFIX = 'ssot-rate-limit:'
const WARN_EVERY_MS = 10_000
const LOCAL_KEYS = 10_000

/** A rate-limit store that asks Redis first and counts locally whenever Redis fails. */
function failSafeStore (redis: Redis, warn: (err: Error) => void) {
  return class FailSafeStore {
    private readonly shared: RedisStore
    private readonly local: LocalStore

    constructor (params: LimiterParams, prefix = KEY_PREFIX) {
      this.shared = new RedisStore(params.continueExceeding, params.exponentialBackoff, redis, prefix)
      this.local = new LocalStore(params.continueExceeding, params.exponentialBackoff, LOCAL_KEYS)
    }

    incr (key: string, callback: Callback, timeWindow: number, max: number): void {
      this.shared.incr(key, (err, result) => {
        if (!err) return callback(null, result)
        warn(err)
        this.local.incr(key, callback, timeWindow, max)
      }, timeWindow, max)
    }

    child (params: LimiterParams): FailSafeStore {
      return new FailSafeStore(params, `${KEY_PREFIX}${params.routeInfo?.method ?? ''}${params.routeInfo?.url ?? ''}-`)
    }
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
  if (!options.redisUrl) return fastify.register(rateLimit, { global: false })

  // No offline queue and one attempt per command: while Redis is down, commands fail at once
  // (and fall back) instead of piling up behind a reconnecting client.
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  redis.on('error', throttledWarning(fastify.log, 'Redis unreachable; it will be retried'))
  fastify.addHook('onClose', async () => { redis.disconnect() })
  const warn = throttledWarning(fastify.log, 'Redis unreachable: login throttling counts in this process only')
  await fastify.register(rateLimit, { global: false, store: failSafeStore(redis, warn) as never })
}

export default fp(throttlePlugin, { name: 'throttle', fastify: '5.x' })
