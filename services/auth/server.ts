// Runs the auth service: environment, keys (generated in --dev), demo user, listen, graceful close.
import { loggerOptions } from '../shared/config.js'
import { devMode, listenWithGrace, loadDotEnv, runOrExit } from '../shared/server.js'
import { ensureUser } from './accounts.js'
import { buildApp } from './app.js'
import { buildAdminApp, localUrl } from './admin/app.js'
import { adminAppOptions, authAppOptions, COOKIE_SECRET_MISSING, loadAuthEnv } from './config.js'
import { ensureExampleWebApp } from './dev-clients.js'
import { openKeyRing } from './key-ring.js'

await runOrExit(async () => {
  loadDotEnv()
  if (devMode) {
    process.env.DEMO_USERNAME ??= 'testuser'
    process.env.DEMO_PASSWORD ??= 'password'
  }
  const env = loadAuthEnv(process.env)
  const options = authAppOptions(env)
  // Outside --dev a missing secret stops the start: a random one per process would make each
  // replica refuse the others' device cookies, and a restart forget every one.
  if (!options.cookieSecrets && !devMode) throw new Error(COOKIE_SECRET_MISSING)
  const keys = devMode ? await openKeyRing(options) : undefined
  const created = keys ? await keys.ensure().then(({ created }) => created).finally(keys.close) : false
  const app = await buildApp({ ...options, logger: loggerOptions(env.LOG_LEVEL, devMode) })
  // The admin API and console: a listener of their own, closed before the store they share. It is
  // built once the public listener knows its address (its verifier reads this replica's JWKS
  // there); a ready instance takes no new hooks, so the closing hook comes first.
  const adminListener: { app?: Awaited<ReturnType<typeof buildAdminApp>> } = {}
  app.addHook('preClose', async () => { await adminListener.app?.close() })
  await app.ready()
  if (created) app.log.info({ keys: keys?.where }, `generated development signing keys (${keys?.protection})`)

  if (env.DEMO_USERNAME && env.DEMO_PASSWORD) {
    const { created } = await ensureUser(app.store.users, env.DEMO_USERNAME, env.DEMO_PASSWORD, [])
    // The demo password is printed only in --dev, where it is the documented .env.example value.
    if (created) app.log.info(devMode ? `demo user created: ${env.DEMO_USERNAME} / ${env.DEMO_PASSWORD}` : `demo user created: ${env.DEMO_USERNAME}`)
  }
  if (devMode) {
    const example = await ensureExampleWebApp(app.store, env.TOKEN_AUDIENCE)
    if (example !== 'present') app.log.info(`example web app client ${example} (secret in data/example-web-app.json): run \`npm run dev:web\` and open http://127.0.0.1:3005`)
  }
  await listenWithGrace(app, env.HOST, env.AUTH_PORT)
  adminListener.app = await buildAdminApp(app, { ...adminAppOptions(env, localUrl(app)), logger: loggerOptions(env.LOG_LEVEL, devMode) })
  await adminListener.app.listen({ host: env.ADMIN_HOST, port: env.ADMIN_PORT })
})
