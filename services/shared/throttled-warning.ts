// One warning per interval for a dependency that is down (Redis), not one per request or retry.
import type { FastifyBaseLogger } from 'fastify'

const WARN_EVERY_MS = 10_000

/** Calls `log` at most once per interval, so an outage is one warning every few seconds, not one per request. */
export function throttledWarning (log: FastifyBaseLogger, message: string) {
  let last = 0
  return (err: Error) => {
    if (Date.now() - last < WARN_EVERY_MS) return
    last = Date.now()
    log.warn({ err: err.message }, message)
  }
}
