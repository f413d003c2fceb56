// Runs the auth service: environment, keys (generated in --dev), demo user, listen, graceful close.
import { ensureKeyFiles } from '../../plugins/issuer/key-files.js'
import { loggerOptions } from '../shared/config.js'
import { devMode, listenWithGrace, loadDotEnv, runOrExit } from '../shared/server.js'
import { ensureUser } from './accounts.js'
import { buildApp } from './app.js'
import { authAppOptions, loadAuthEnv } from './config.js'

await runOrExit(async () => {
  loadDotEnv()
  if (devMode) {
    process.env.DEMO_USERNAME ??= 'testuser'
    process.env.DEMO_PASSWORD ??= 'password'
  }
  const env = loadAuthEnv(process.env)
  const keys = devMode ? await ensureKeyFiles(env.KEYS_DIR) : { created: false }
  const app = await buildApp({ ...authAppOptions(env), logger: loggerOptions(env.LOG_LEVEL, devMode) })
  await app.ready()
  if (keys.created) app.log.info({ keysDir: env.KEYS_DIR }, 'generated development signing keys (mode 0600, git-ignored)')

  if (env.DEMO_USERNAME && env.DEMO_PASSWORD) {
    const { created } = await ensureUser(app.store.users, env.DEMO_USERNAME, env.DEMO_PASSWORD, [])
    // The demo password is printed only in --dev, where it is the documented .env.example value.
    if (created) app.log.info(devMode ? `demo user created: ${env.DEMO_USERNAME} / ${env.DEMO_PASSWORD}` : `demo user created: ${env.DEMO_USERNAME}`)
  }
  await listenWithGrace(app, env.HOST, env.AUTH_PORT)
})
