// TEST_REDIS_URL, or undefined with the test skipped; under CI a missing server fails the run.
import type { Test } from 'tap'

export function redisUrl (t: Test): string | undefined {
  const url = process.env.TEST_REDIS_URL
  if (!url) {
    if (process.env.CI) t.fail('TEST_REDIS_URL is not set: CI runs the Redis tests')
    else t.comment('TEST_REDIS_URL is not set: Redis tests skipped')
  }
  return url
}
