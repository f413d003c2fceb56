// npm run dev:web: the example web app on http://127.0.0.1:3005, signing in at the auth service of
// `npm run dev`. Its client (example-web-app) is registered by `npm run dev`, which writes the
// client's secret to data/example-web-app.json; or set WEB_APP_CLIENT_ID and WEB_APP_CLIENT_SECRET.
import { readFileSync } from 'node:fs'
import { buildWebApp } from './app.js'

const env = process.env
const port = Number(env.WEB_APP_PORT ?? 3005)
const appUrl = env.WEB_APP_URL ?? `http://127.0.0.1:${port}`

function clientSecret (): string {
  if (env.WEB_APP_CLIENT_SECRET) return env.WEB_APP_CLIENT_SECRET
  try {
    return (JSON.parse(readFileSync('data/example-web-app.json', 'utf8')) as { clientSecret: string }).clientSecret
  } catch {
    console.error('No client secret: start the auth service first with `npm run dev` (it registers example-web-app and writes data/example-web-app.json), or set WEB_APP_CLIENT_SECRET')
    process.exit(1)
  }
}

const app = await buildWebApp({
  issuer: env.ISSUER_URL ?? 'http://localhost:3000',
  resourceUrl: env.RESOURCE_URL ?? 'http://localhost:3001',
  clientId: env.WEB_APP_CLIENT_ID ?? 'example-web-app',
  clientSecret: clientSecret(),
  appUrl,
  logger: true
})
await app.listen({ host: new URL(appUrl).hostname.replace(/^\[|\]$/g, ''), port })
app.log.info(`example web app: open ${appUrl}`)
