// Runs the resource service: environment, listen, graceful close.
import { loggerOptions } from '../shared/config.js'
import { devMode, listenWithGrace, loadDotEnv, runOrExit } from '../shared/server.js'
import { buildApp } from './app.js'
import { loadResourceEnv, resourceAppOptions } from './config.js'

await runOrExit(async () => {
  loadDotEnv()
  // `npm run dev` starts this service a moment before the auth service: retry its JWKS within a
  // second rather than after the production cooldown.
  if (devMode) process.env.JWKS_COOLDOWN_MS ??= '1000'
  const env = loadResourceEnv(process.env)
  const app = await buildApp({ ...resourceAppOptions(env), logger: loggerOptions(env.LOG_LEVEL, devMode) })
  await listenWithGrace(app, env.HOST, env.RESOURCE_PORT)
})
