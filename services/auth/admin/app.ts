// buildAdminApp: the admin API (and console) of one auth replica, a Fastify instance of its own
// that server.ts listens with on ADMIN_HOST:ADMIN_PORT, never on the public port. It shares the
// public app's store, throttle and key ring, and trusts tokens through our own verifier, as any
// resource server does: it reads this replica's JWKS and revocation feed over HTTP.
import type { AddressInfo } from 'node:net'
import cookie from '@fastify/cookie'
import formBody from '@fastify/formbody'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifier from '../../../plugins/verifier/index.js'
import { errorHandler } from '../../shared/error-handler.js'
import { notFoundHandler } from '../../shared/framework-errors.js'
import { serverOptions } from '../../shared/http-server.js'
import { RequestLogController } from '../../shared/logging.js'
import { registerOperations } from '../../shared/operations.js'
import type { OperationsOptions } from '../../shared/operations-config.js'
import type { AuthApp } from '../app.js'
import { REVOCATIONS_PATH } from '../routes/revocations.js'
import { createAdminActions } from './actions.js'
import { ensureConsoleClient } from './console/client.js'
import { consoleRedirectUri, consoleRoutes } from './console/routes.js'
import { adminGuard } from './guard.js'
import { clientRoutes } from './routes/clients.js'
import { keysAndEventsRoutes } from './routes/keys-and-events.js'
import { userRoutes } from './routes/users.js'

export interface AdminAppOptions {
  /** ISSUER_URL: the `iss` the admin API trusts. */
  issuer: string
  /** ADMIN_AUDIENCE: the `aud` its tokens carry. */
  audience: string
  /** ADMIN_MAX_AUTH_AGE, seconds: how recent a sign-in destructive actions need. */
  maxAuthAge: number
  /** This replica's public listener as this process reaches it (its JWKS and revocation feed). */
  publicUrl: string
  /** LOGIN_CLIENT_ID and TOKEN_AUDIENCE (the default audience of a new client). */
  loginClientId: string
  defaultAudience: string
  /** ADMIN_CONSOLE_URL: where browsers reach the console (its redirect URI and origin). */
  consoleUrl: string
  operations: OperationsOptions
  logger?: FastifyServerOptions['logger']
}

export async function buildAdminApp (auth: AuthApp, options: AdminAppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLogController(),
    trustProxy: options.operations.trustProxy,
    ...serverOptions(options.operations.http),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler(notFoundHandler())
  // The public app's parts, shared: one store (one pool), one throttle, one key ring.
  app.decorate('store', auth.store)
  app.decorate('loginThrottle', auth.loginThrottle)
  app.decorate('issuer', auth.issuer)
  await registerOperations(app, options.operations, {
    title: 'fastify-ssot admin API',
    description: `Users, sessions, clients, keys, revocations and the audit trail. Bearer tokens of audience \`${options.audience}\`, scopes admin:read / admin:write, role admin.`
  })
  const base = options.publicUrl.replace(/\/+$/, '')
  await app.register(verifier, {
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: `${base}/.well-known/jwks.json`,
    revocations: { feedUrl: `${base}${REVOCATIONS_PATH}` }
  })
  app.addHook('onRequest', adminGuard(app, { maxAuthAge: options.maxAuthAge }))
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.config.access !== undefined && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
  })
  const actions = createAdminActions(auth.store)
  await app.register(userRoutes, { actions })
  await app.register(clientRoutes, { actions, loginClientId: options.loginClientId, defaultAudience: options.defaultAudience })
  await app.register(keysAndEventsRoutes, { actions })
  // The console: forms and cookies, in a context of its own (its CSP, its hooks).
  await ensureConsoleClient(auth.store, { redirectUri: consoleRedirectUri(options.consoleUrl), audience: options.audience })
  await app.register(async (console) => {
    await console.register(cookie)
    await console.register(formBody)
    await console.register(consoleRoutes, { issuer: options.issuer, publicUrl: base, consoleUrl: options.consoleUrl })
  })
  return app
}

export type AdminApp = Awaited<ReturnType<typeof buildAdminApp>>

/** The URL this process reaches a listening app at (a wildcard address becomes loopback). */
export function localUrl (app: FastifyInstance): string {
  const { address, port, family } = app.server.address() as AddressInfo
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address
  return `http://${family === 'IPv6' || host.includes(':') ? `[${host}]` : host}:${port}`
}
