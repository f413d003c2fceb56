// The auth service is ready when its database answers and its key ring has a key to sign with.
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { ReadinessCheck } from '../shared/readiness.js'

export function authReadinessChecks (fastify: FastifyInstance): Record<string, ReadinessCheck> {
  return {
    async store () {
      await sql`select 1`.execute(fastify.store.db)
      return undefined
    },
    async signingKey () {
      return fastify.issuer.keyRing.keys().some((key) => key.state === 'active') ? undefined : 'no active signing key'
    }
  }
}
