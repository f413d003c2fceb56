// The auth service is ready when its database answers. No signing-key check: buildApp refuses to
// start without an active key, and a key ring never drops its active key once loaded.
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { ReadinessCheck } from '../shared/readiness.js'

export function authReadinessChecks (fastify: FastifyInstance): Record<string, ReadinessCheck> {
  return {
    async store () {
      await sql`select 1`.execute(fastify.store.db)
      return undefined
    }
  }
}
