// Headless Chromium for the sign-in tests: a context whose navigations to the apps' callback
// addresses are caught (nothing listens there) and recorded, and the login form filled as a person does.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { testDir } from '../helper.js'
import { CHROMIUM_PATH } from '../services.js'

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

export async function launch (t: Test, name = 'chromium-profile'): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(join(testDir(t), name), {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true
  })
  t.teardown(() => context.close())
  return context
}

/** A loopback HTTP server standing for an app's callback: records every URL it is sent to. */
export async function callbackServer (t: Test) {
  const seen: string[] = []
  const server = createServer((request, response) => {
    if (request.url !== '/favicon.ico') seen.push(`${origin}${request.url}`)
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><p>back at the app</p>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { origin, seen }
}

/** Goes to `url`; fills and sends the login form when it shows; returns whether it showed. */
export async function signIn (page: Page, url: string, username: string, password: string): Promise<boolean> {
  const shown: string[] = []
  const listener = (request: { url: () => string }) => { if (/\/sign-in$/.test(request.url())) shown.push(request.url()) }
  page.on('request', listener)
  await page.goto(url)
  if (await page.locator('#username').count() > 0) {
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Password').fill(password)
    await Promise.all([page.waitForURL((next) => !next.pathname.endsWith('/sign-in')), page.getByRole('button', { name: 'Sign in' }).click()])
  }
  page.off('request', listener)
  return shown.length > 0
}
