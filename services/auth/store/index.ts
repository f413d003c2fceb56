// The store plugin: opens the database, migrates it, and decorates `fastify.store`.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createDatabase, type DatabaseOptions } from './database.js'
import { migrateToLatest } from './migrations.js'
import { createUserRepository } from './users.js'

function createStore (options: DatabaseOptions) {
  const db = createDatabase(options)
  return { db, users: createUserRepository(db) }
}

async function storePlugin (fastify: FastifyInstance, options: DatabaseOptions) {
  const store = createStore({
    ...options,
    onConnectionError: (err) => fastify.log.warn({ err: err.message }, 'database connection lost; it will be reopened on demand')
  })
  fastify.addHook('onClose', () => store.db.destroy())
  await migrateToLatest(store.db)
  fastify.decorate('store', store)
}

declare module 'fastify' {
  interface FastifyInstance {
    store: ReturnType<typeof createStore>
  }
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
