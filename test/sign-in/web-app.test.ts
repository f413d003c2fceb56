// The example web app (examples/web-app, @fastify/oauth2 through discovery) in headless Chromium:
// sign in at the hosted page, see who is signed in, call the resource service, sign out. And the
// dev registration of its client (npm run dev), with the secret written for `npm run dev:web`.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildWebApp } from '../../examples/web-app/app.js'
import { ensureExampleWebApp } from '../../services/auth/dev-clients.js'
import { addUser, reservePort, startAuth, startResource, testDir } from '../helper.js'
import { chromiumAvailable } from '../services.js'
import { launch } from './browser.js'
import { PASSWORD } from './helpers.js'

t.test('npm run dev registers the example web app once, its secret on file (0600); a lost file gets a new secret', async (t) => {
  const app = await startAuth(t)
  const file = join(testDir(t), 'data', 'example-web-app.json')
  t.equal(await ensureExampleWebApp(app.store, 'ssot-api', file), 'created')
  const { clientSecret } = JSON.parse(readFileSync(file, 'utf8')) as { clientSecret: string }
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.ok(await app.store.clients.authenticate('example-web-app', clientSecret))
  t.equal(await ensureExampleWebApp(app.store, 'ssot-api', file), 'present')
  t.equal(await ensureExampleWebApp(app.store, 'ssot-api', join(testDir(t), 'data', 'other.json')), 'rotated')
  t.notOk(await app.store.clients.authenticate('example-web-app', clientSecret), 'the old secret no longer works')
})

t.test('the example web app signs in, calls the resource service and signs out, in Chromium', async (t) => {
  if (!chromiumAvailable(t)) return
  const { port, close } = await reservePort()
  await close()
  const appUrl = `http://127.0.0.1:${port}`
  const auth = await startAuth(t)
  await addUser(auth, 'alice', PASSWORD)
  const { clientSecret } = await auth.store.clients.create({
    clientId: 'example-web-app', name: 'Example web app', scopes: ['openid', 'profile'], audiences: ['ssot-api'], redirectUris: [`${appUrl}/callback`], postLogoutRedirectUris: [`${appUrl}/`]
  })
  const resource = await startResource(t, auth.url)
  const web = await buildWebApp({ issuer: auth.url, resourceUrl: resource.url, clientId: 'example-web-app', clientSecret, appUrl })
  t.teardown(() => web.close())
  await web.listen({ host: '127.0.0.1', port })

  const otherHost = await web.inject({ url: '/resource', headers: { host: `localhost:${port}` } })
  t.equal(otherHost.headers.location, `${appUrl}/resource`, 'another host name is sent to the app URL (its cookies live on one host)')
  const notSignedIn = await fetch(`${appUrl}/resource`, { redirect: 'manual' })
  t.equal(notSignedIn.headers.get('location'), '/', 'nobody signed in: back to the start page')
  const context = await launch(t)
  const page = await context.newPage()
  await page.goto(`${appUrl}/`)
  t.match(await page.locator('#status').innerText(), 'You are not signed in')
  await page.click('#sign-in')
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await Promise.all([page.waitForURL(`${appUrl}/`), page.getByRole('button', { name: 'Sign in' }).click()])
  t.equal(await page.locator('#username').innerText(), 'alice', 'signed in as alice')
  await page.click('#call')
  t.match(await page.locator('#answer').innerText(), /This is a protected resource/, 'the resource service accepted the token')
  await page.goto(`${appUrl}/`)
  await Promise.all([page.waitForURL(`${appUrl}/`), page.click('#sign-out')])
  t.match(await page.locator('#status').innerText(), 'You are not signed in', 'signed out, back at the app')
  await page.click('#sign-in')
  t.ok(await page.getByLabel('Password').isVisible(), 'the auth service asks for the password again')
  await context.close()
})
