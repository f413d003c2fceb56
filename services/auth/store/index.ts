// The store plugin: opens the database, migrates it, and decorates `fastify.store`.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createDatabase, type DatabaseOptions } from './database.js'
import { migrateToLatest } from './migrations.js'
import { createClientRepository } from './clients.js'
import { createRefreshTokenRepository, type RefreshLifetimes } from './refresh-tokens.js'
import { createUserRepository } from './users.js'

const PURGE_EVERY_MS = 3_600_000

export interface StoreOptions extends DatabaseOptions {
  refreshTokens: RefreshLifetimes
}

function createStore (options: StoreOptions) {
  const db = createDatabase(options)
  return {
    db,
    users: createUserRepository(db),
    refreshTokens: createRefreshTokenRepository(db, options.refreshTokens),
    clients: createClientRepository(db)
  }
}

async function storePlugin (fastify: FastifyInstance, options: StoreOptions) {
  const store = createStore({
    ...options,
    onConnectionError: (err) => fastify.log.warn({ err: err.message }, 'database connection lost; it will be reopened on demand')
  })
  fastify.addHook('onClose', () => store.db.destroy())
  await migrateToLatest(store.db)
  // Expired sessions are deleted at start and every hour after: a late purge costs nothing, since
  // an expired refresh token is refused anyway.
  const purge = () => store.refreshTokens.purgeExpired()
    .then((count) => { if (count > 0) fastify.log.info({ count }, 'expired sessions purged') })
    .catch((err: Error) => fastify.log.warn({ err: err.message }, 'expired sessions not purged; next try in an hour'))
  const timer = setInterval(purge, PURGE_EVERY_MS).unref()
  fastify.addHook('onReady', purge)
  fastify.addHook('onClose', async () => clearInterval(timer))
  fastify.decorate('store', store)
}

declare module 'fastify' {
  interface FastifyInstance {
    store: ReturnType<typeof createStore>
  }
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
