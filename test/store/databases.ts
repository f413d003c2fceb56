// One test body, every database the store supports: SQLite always, PostgreSQL from
// TEST_DATABASE_URL (each test in a schema of its own, dropped at teardown).
import { join } from 'node:path'
import type { Test } from 'tap'
import { testDir } from '../helper.js'
import { createSchema } from '../postgres-schema.js'
import { testServices } from '../services.js'

export type DatabaseKind = 'sqlite' | 'postgres'

/** A DATABASE_URL for a fresh PostgreSQL schema that lives as long as `t`. */
export async function freshPostgresUrl (t: Test, baseUrl: string): Promise<string> {
  const { url, drop } = await createSchema(baseUrl, 'test')
  t.teardown(drop)
  return url
}

/** TEST_DATABASE_URL, or undefined with the test skipped; under CI a missing server fails the run. */
export function postgresBaseUrl (t: Test): string | undefined {
  return testServices(t, 'postgres')?.postgres
}

/** Runs `body` once on SQLite and once on PostgreSQL, each with a DATABASE_URL of its own. */
export function eachDatabase (t: Test, name: string, body: (t: Test, url: string, kind: DatabaseKind) => Promise<void>): void {
  t.test(`${name} (sqlite)`, async (t) => body(t, `sqlite:${join(testDir(t), 'store.sqlite')}`, 'sqlite'))
  t.test(`${name} (postgres)`, async (t) => {
    const baseUrl = postgresBaseUrl(t)
    if (baseUrl) await body(t, await freshPostgresUrl(t, baseUrl), 'postgres')
  })
}
