// TEST_REDIS_URL, or undefined with the test skipped; under CI a missing server fails the run.
import type { Test } from 'tap'
import { testServices } from './services.js'

export function redisUrl (t: Test): string | undefined {
  return testServices(t, 'redis')?.redis
}
