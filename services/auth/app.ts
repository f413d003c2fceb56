// buildApp: the whole auth service, without listening (tests build it; server.ts runs it).
import { randomBytes, type KeyObject } from 'node:crypto'
import cookie from '@fastify/cookie'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import issuer from '../../plugins/issuer/index.js'
import { errorHandler } from '../shared/error-handler.js'
import { notFoundHandler } from '../shared/framework-errors.js'
import { serverOptions } from '../shared/http-server.js'
import { RequestLogController } from '../shared/logging.js'
import { registerOperations } from '../shared/operations.js'
import type { OperationsOptions } from '../shared/operations-config.js'
import { readinessRoutes } from '../shared/readiness.js'
import { authReadinessChecks } from './readiness.js'
import { createAccessTokenRevoker } from './access-token-revocation.js'
import { DPOP_ALGORITHMS } from '../../plugins/verifier/dpop-proof.js'
import dpop from './dpop.js'
import { createGrants } from './grants.js'
import { issuerKeySource } from './key-ring.js'
import { createAdminActions, SYSTEM_ACTOR } from './admin/actions.js'
import type { LoginThrottleOptions } from './login-throttle.js'
import loginUnlocks from './login-unlocks.js'
import passwordLogin from './password-login.js'
import { loginRoutes } from './routes/login.js'
import { oauthRoutes } from './routes/oauth.js'
import { passwordRoutes } from './routes/password.js'
import { oauthAwareErrorBody } from './routes/oauth-error-body.js'
import { REVOCATIONS_PATH, revocationRoutes } from './routes/revocations.js'
import type { RevocationFeedOptions } from './revocation-hub.js'
import { sessionRoutes } from './routes/session.js'
import type { RefreshLifetimes } from './store/refresh-tokens.js'
import type { BrowserSessionLifetimes } from './store/sign-in.js'
import { ATTEMPT_TTL } from './store/sign-in.js'
import { createSignInCookies } from './sign-in/cookies.js'
import { signInDiscovery } from './sign-in/discovery.js'
import { signInRoutes } from './sign-in/routes.js'
import { endSessionRoutes } from './sign-in/end-session.js'
import { userinfoRoutes } from './sign-in/userinfo.js'
import store from './store/index.js'
import throttle from './throttle.js'

export interface AuthAppOptions {
  issuer: string
  audience: string
  accessTokenTtl: number
  keysDir: string
  /** `files` (the default): the PEM ring in keysDir; `database`: the ring in the store, sealed. */
  keysBackend?: 'files' | 'database'
  /** The key-encryption key of the database backend (KEYS_ENCRYPTION_KEY). */
  keysEncryptionKey?: KeyObject
  jwksMaxAge: number
  /** Seconds between looks at keyring.json (0: never); see plugins/issuer/key-reloader.ts. */
  keysReloadInterval: number
  /** Seconds between automatic rotations; unset: rotate only with `npm run keys:rotate`. */
  keyRotationInterval?: number
  databaseUrl: string
  /** PostgreSQL pool settings (ignored for SQLite). */
  databasePool?: { poolMax: number, connectTimeout: number, statementTimeout: number }
  /** Seconds: a session's absolute lifetime, and how long a refresh token stays usable unused. */
  refreshTokens: RefreshLifetimes
  /** How this service reaches itself over HTTP (the userinfo endpoint's verifier reads its JWKS there); default: issuer. */
  selfUrl?: string
  /** Seconds: a browser session's (single sign-on) idle and absolute lifetimes (BROWSER_SESSION_IDLE_TTL, BROWSER_SESSION_TTL). */
  browserSessions: BrowserSessionLifetimes
  /** client_id and scope of the tokens a password login issues. */
  loginClientId: string
  loginScope: string
  /** Shared throttling counters for several replicas; unset: counted in this process. */
  redisUrl?: string
  /** Login throttling, and the device cookie's lifetime in seconds. */
  login: LoginThrottleOptions & { deviceCookieMaxAge: number }
  /** COOKIE_SECRET: signs the cookies (the first; any one is accepted); unset: a random one for this process. */
  cookieSecrets?: string[]
  logger?: FastifyServerOptions['logger']
  /** Proxies and load shedding (from the environment: `operationsOptions`). */
  operations: OperationsOptions
  /** Days an audit event is kept (AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number
  /** Milliseconds between polls of the revocations table, and between keep-alives on each stream. */
  revocationFeed: RevocationFeedOptions
  /** DPoP proofs at the token-issuing routes: seconds a proof is accepted after its iat, and the nonce secret (unset: no nonces). */
  dpop: { maxAge: number, nonceSecret?: string }
}

export async function buildApp (options: AuthAppOptions) {
  const operations = options.operations
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLogController(),
    trustProxy: operations.trustProxy,
    // Errors raised before a route (timeouts, bad HTTP, unknown routes) in our shape; RFC 6749's under /oauth/.
    ...serverOptions(operations.http, oauthAwareErrorBody),
    // Strict bodies: `password: true` is a 400, not the string "true"; unknown fields are refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler(errorHandler)
  // Fastify parses text/plain by default; no route here takes it, so it is 415, not a 400 from the schema.
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler(notFoundHandler(oauthAwareErrorBody))
  await registerOperations(app, operations, { title: 'fastify-ssot auth service', description: 'Logs users in and signs their access tokens; publishes the JWKS.' })
  const { browserSessions } = options
  await app.register(store, {
    url: options.databaseUrl,
    ...options.databasePool,
    refreshTokens: options.refreshTokens,
    browserSessions,
    accessTokenTtl: options.accessTokenTtl,
    auditRetentionDays: options.auditRetentionDays
  })
  const cookieSecrets = await registerLogin(app, options)
  await app.register(issuer, {
    issuer: options.issuer,
    audience: options.audience,
    accessTokenTtl: options.accessTokenTtl,
    ...issuerKeySource(app.store.db, options),
    jwksMaxAge: options.jwksMaxAge,
    reloadInterval: options.keysReloadInterval,
    ...(options.keyRotationInterval !== undefined && { rotationInterval: options.keyRotationInterval }),
    // Only the replica whose rotation went through records it (the others are refused: next key too young).
    onRotated: (result) => createAdminActions(app.store).keys.rotated(SYSTEM_ACTOR, result),
    discoveryMetadata: {
      revocation_feed_endpoint: `${options.issuer.replace(/\/+$/, '')}${REVOCATIONS_PATH}`,
      ...signInDiscovery(options.issuer),
      // RFC 9449 §5.1: the algorithms of the proofs the token endpoint takes (asymmetric only).
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS]
    }
  })
  await app.register(dpop, {
    issuer: options.issuer,
    maxAge: options.dpop.maxAge,
    ...(options.dpop.nonceSecret !== undefined && { nonceSecret: options.dpop.nonceSecret }),
    ...(options.redisUrl && { redisUrl: options.redisUrl })
  })
  const grants = createGrants(app, { loginClientId: options.loginClientId, loginScope: options.loginScope, issuer: options.issuer, idTokenTtl: options.accessTokenTtl })
  await app.register(loginRoutes, { grants })
  await app.register(sessionRoutes, { grants })
  await app.register(passwordRoutes)
  const revokeAccessToken = createAccessTokenRevoker(app, { issuer: options.issuer, loginClientId: options.loginClientId })
  await app.register(oauthRoutes, { grants, revokeAccessToken })
  const secure = options.issuer.startsWith('https:')
  const cookies = createSignInCookies({ secure, secrets: cookieSecrets, sessionMaxAge: browserSessions.absoluteTtl, attemptMaxAge: ATTEMPT_TTL })
  await app.register(signInRoutes, { issuer: options.issuer, cookies })
  await app.register(endSessionRoutes, { issuer: options.issuer, cookies })
  await app.register(userinfoRoutes, { issuer: options.issuer, selfUrl: options.selfUrl ?? options.issuer })
  await app.register(revocationRoutes, options.revocationFeed)
  await app.register(readinessRoutes, { checks: authReadinessChecks(app) })
  return app
}

/** Cookies, the throttle and password checks, for every route that logs a user in. */
async function registerLogin (app: FastifyInstance, options: AuthAppOptions) {
  const { deviceCookieMaxAge, ...throttleOptions } = options.login
  const secrets = options.cookieSecrets ?? [randomBytes(32).toString('base64url')]
  if (!options.cookieSecrets) app.log.warn('COOKIE_SECRET is not set: cookies are signed with a random secret that lasts as long as this process')
  await app.register(cookie, { secret: secrets })
  await app.register(throttle, { ...throttleOptions, ...(options.redisUrl && { redisUrl: options.redisUrl }) })
  await app.register(loginUnlocks)
  await app.register(passwordLogin, { secrets, secure: options.issuer.startsWith('https:'), maxAge: deviceCookieMaxAge })
  return secrets
}

export type AuthApp = Awaited<ReturnType<typeof buildApp>>
