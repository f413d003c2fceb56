// The services some suites need (PostgreSQL, Redis, Chromium): their URL, or the test skipped with
// the reason tap lists at the end; under CI (CI set) a missing service fails the run instead.
import { existsSync } from 'node:fs'
import type { Test } from 'tap'

/** Each service a suite may need: the variable naming it, and what `.ci/run` sets it to. */
export const SERVICES = {
  postgres: { variable: 'TEST_DATABASE_URL', name: 'PostgreSQL', example: 'postgres://postgres@127.0.0.1:5432/test' },
  redis: { variable: 'TEST_REDIS_URL', name: 'Redis', example: 'redis://127.0.0.1:6379' }
} as const
type Service = keyof typeof SERVICES

/** Ends `t` as skipped (or failed under CI) with `reason`. */
function unavailable (t: Test, reason: string): undefined {
  if (process.env.CI) t.fail(`${reason}: CI runs every suite`)
  else t.plan(0, `${reason}: skipped`)
  return undefined
}

/** Each wanted service's URL; undefined (test skipped, or failed under CI) when one is not configured. */
export function testServices<S extends Service> (t: Test, ...wanted: S[]): Record<S, string> | undefined {
  const absent = wanted.filter((service) => !process.env[SERVICES[service].variable])
  if (absent.length > 0) {
    return unavailable(t, absent.map((service) => `${SERVICES[service].variable} is not set (no ${SERVICES[service].name})`).join(', '))
  }
  return Object.fromEntries(wanted.map((service) => [service, process.env[SERVICES[service].variable]!])) as Record<S, string>
}

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** True when Chromium is installed; otherwise the test is skipped (failed under CI, whose .ci/run installs it). */
export function chromiumAvailable (t: Test): boolean {
  if (existsSync(CHROMIUM_PATH)) return true
  unavailable(t, `${CHROMIUM_PATH} is not installed (apt-get install chromium)`)
  return false
}
