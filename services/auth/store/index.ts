// The store plugin: opens the database, migrates it, and decorates `fastify.store`.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CLOCK_SKEW_MARGIN } from '../../../plugins/issuer/key-timing.js'
import { createDatabase, type DatabaseOptions } from './database.js'
import { migrateToLatest } from './migrations.js'
import { createAuditRepository } from './audit.js'
import { createClientAdmin } from './client-admin.js'
import { createClientRepository } from './clients.js'
import { createLoginUnlockRepository } from './login-unlocks.js'
import { createRefreshTokenRepository, type RefreshLifetimes } from './refresh-tokens.js'
import { createRevocationRepository } from './revocations.js'
import { createSignInRepository, type BrowserSessionLifetimes } from './sign-in.js'
import { createUserAdmin } from './user-admin.js'
import { createUserRepository } from './users.js'

const PURGE_EVERY_MS = 3_600_000
const DEFAULT_BROWSER_SESSIONS: BrowserSessionLifetimes = { idleTtl: 3600, absoluteTtl: 12 * 3600 }

export interface StoreOptions extends DatabaseOptions {
  refreshTokens: RefreshLifetimes
  /** Browser sessions (single sign-on); default 1 h idle, 12 h absolute. */
  browserSessions?: BrowserSessionLifetimes
  /** Seconds an access token lives: how long a revocation, and an ended session, must be kept. */
  accessTokenTtl: number
}

export interface StorePluginOptions extends StoreOptions {
  /** Days an audit event is kept (AUDIT_RETENTION_DAYS); older ones are purged with the rest. */
  auditRetentionDays: number
}

/** Every repository over one database (`db`, or a new one for `options`); the CLIs open it the same way. */
export function createStore (options: StoreOptions, db = createDatabase(options)) {
  const revocations = createRevocationRepository(db, options)
  const refreshTokens = createRefreshTokenRepository(db, options.refreshTokens, revocations)
  return {
    db,
    users: createUserRepository(db),
    userAdmin: createUserAdmin(db, revocations),
    refreshTokens,
    signIn: createSignInRepository(db, options.browserSessions ?? DEFAULT_BROWSER_SESSIONS, refreshTokens, revocations),
    clients: createClientRepository(db),
    clientAdmin: createClientAdmin(db, revocations),
    revocations,
    loginUnlocks: createLoginUnlockRepository(db),
    audit: createAuditRepository(db)
  }
}

export type Store = ReturnType<typeof createStore>

/**
 * Deletes what can no longer matter. A session is kept ACCESS_TOKEN_TTL (+ the clock margin) past
 * its end, while its last access token may still be valid, so that disabling its user still
 * finds and revokes it. Revocations go once every token they affect has expired.
 */
async function purgeExpired (store: Store, accessTokenTtl: number, auditRetentionDays: number) {
  const sessionsEndedBefore = new Date(Date.now() - (accessTokenTtl + CLOCK_SKEW_MARGIN) * 1000)
  return {
    sessions: await store.refreshTokens.purgeExpired(sessionsEndedBefore),
    revocations: await store.revocations.purgeExpired(),
    unlocks: await store.loginUnlocks.purgeExpired(),
    signIn: await store.signIn.purgeExpired(),
    auditEvents: await store.audit.purgeOlderThan(new Date(Date.now() - auditRetentionDays * 86_400_000))
  }
}

async function storePlugin (fastify: FastifyInstance, options: StorePluginOptions) {
  const store = createStore({
    ...options,
    onConnectionError: (err) => fastify.log.warn({ err: err.message }, 'database connection lost; it will be reopened on demand')
  })
  fastify.addHook('onClose', () => store.db.destroy())
  await migrateToLatest(store.db)
  // Purged at start and every hour after: a late purge costs nothing, since an expired refresh
  // token is refused anyway and an expired revocation is no longer published.
  const purge = () => purgeExpired(store, options.accessTokenTtl, options.auditRetentionDays)
    .then((counts) => {
      if (counts.sessions + counts.revocations + counts.unlocks + counts.signIn + counts.auditEvents > 0) fastify.log.info(counts, 'expired sessions, revocations and audit events purged')
    })
    .catch((err: Error) => fastify.log.warn({ err: err.message }, 'expired sessions and revocations not purged; next try in an hour'))
  const timer = setInterval(purge, PURGE_EVERY_MS).unref()
  fastify.addHook('onReady', purge)
  fastify.addHook('onClose', async () => clearInterval(timer))
  fastify.decorate('store', store)
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export default fp(storePlugin, { name: 'store', fastify: '5.x' })
