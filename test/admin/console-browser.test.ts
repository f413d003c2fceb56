// The admin console in Chromium: the admin signs in through the hosted page, creates a user who
// signs in and calls the resource service, then disables that user, whose token is refused at the
// resource service within a second; the audit view shows each step. Its screenshot is the README's
// docs/admin-console.png when UPDATE_DOCS=1 (`npm run docs:screenshot`); otherwise it stays in the test's folder.
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import t from 'tap'
import { addUser, login, startAuth, startResource, testDir } from '../helper.js'
import { CHROMIUM_PATH, chromiumAvailable } from '../services.js'
import { ADMIN_PASSWORD, startConsole } from './helpers.js'

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

async function until (condition: () => Promise<boolean>, what: string, limitMs: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < limitMs) {
    if (await condition()) return Date.now() - start
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`not within ${limitMs} ms: ${what}`)
}

t.test('an admin manages a user from the console, in Chromium', async (t) => {
  if (!chromiumAvailable(t)) return
  const auth = await startAuth(t, { REVOCATION_FEED_POLL_MS: '50' })
  const admin = await startConsole(t, auth)
  await addUser(auth, 'root', ADMIN_PASSWORD, ['admin'])
  const resource = await startResource(t, auth.url)
  await until(async () => resource.verifier.stats().revocations.synced === 1, 'the resource service follows the feed', 10_000)

  const browser = await chromium.launchPersistentContext(join(testDir(t), 'chromium-profile'), {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 420 }
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const consoleErrors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(`${message.text()} ${message.location().url}`) })

  // Signed in through the hosted page of the auth service.
  await page.goto(`${admin.url}/console`)
  t.equal(new URL(page.url()).origin, auth.url, 'sent to the hosted sign-in page')
  await page.fill('#username', 'root')
  await page.fill('#password', ADMIN_PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForURL(`${admin.url}/console/users`)
  const cookies = await browser.cookies(admin.url)
  t.match(cookies.find((cookie) => cookie.name === 'ssot-admin'), { httpOnly: true, sameSite: 'Strict' }, 'the session cookie')
  t.notOk(await page.evaluate(() => document.cookie.includes('ssot-admin')), 'not readable by page script')

  // A new user, who signs in and calls the resource service.
  const form = page.locator('form[action="/console/action/user-create"]')
  await form.locator('input[name=username]').fill('walt')
  await form.locator('input[name=password]').fill('walt password 12')
  await form.locator('input[name=temporary]').uncheck()
  await form.locator('button').click()
  await page.getByText('User walt created.').waitFor()
  const walt = await login(auth.url, 'walt', 'walt password 12')
  t.equal(walt.status, 200, 'walt signs in')
  const call = async () => (await fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${walt.body.access_token as string}` } })).status
  t.equal(await call(), 200, 'and calls the resource service')

  // Disabled from the console, after a confirmation: the token is refused within a second.
  const row = page.locator('tr', { hasText: 'walt' })
  await row.getByRole('button', { name: 'Disable' }).click()
  await page.getByText('Disable walt and end every session?').waitFor()
  const confirmed = Date.now()
  await page.getByRole('button', { name: /^Yes, disable walt/ }).click()
  await until(async () => await call() === 401, 'walt\'s token refused', 1000)
  const refusedAfter = Date.now() - confirmed
  t.ok(refusedAfter < 1000, 'refused at the resource service within 1 s of the confirmation')
  t.comment(`walt's token refused ${refusedAfter} ms after the confirmation was clicked`)
  await page.getByText('User walt disabled').waitFor()

  // A form post with another CSRF token, or from another origin, is refused; nothing changes.
  const session = (await browser.cookies(admin.url)).find((cookie) => cookie.name === 'ssot-admin')!
  const csrf = await page.locator('form[action="/console/logout"] input[name=_csrf]').inputValue()
  const post = (fields: Record<string, string>, origin: string) => fetch(`${admin.url}/console/action/user-enable`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `ssot-admin=${session.value}`, origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'walt', ...fields })
  })
  t.equal((await post({ _csrf: 'not the token' }, admin.url)).status, 403, 'another CSRF token is refused')
  t.equal((await post({}, admin.url)).status, 403, 'no CSRF token is refused')
  t.equal((await post({ _csrf: csrf }, 'http://evil.example')).status, 403, 'another Origin is refused')
  t.equal((await auth.store.users.findByUsername('walt'))!.disabled, 1, 'walt is still disabled')
  const csp = (await page.goto(`${admin.url}/console/keys`))!.headers()['content-security-policy']!
  t.match(csp, /script-src 'self';/)
  t.notMatch(csp, /unsafe-inline/, 'no inline script or style')

  // The audit view shows each step.
  await page.click('a[href="/console/audit"]')
  const audit = await page.locator('table').innerText()
  for (const step of [/root\s+auth\.login\s+root\s+success/, /root\s+user\.create\s+walt\s+success/, /walt\s+auth\.login\s+walt\s+success/, /root\s+user\.disable\s+walt\s+success/]) {
    t.match(audit, step, `the audit view shows ${step}`)
  }
  await page.screenshot({ path: process.env.UPDATE_DOCS === '1' ? 'docs/admin-console.png' : join(testDir(t), 'admin-console.png'), fullPage: true })
  t.same(consoleErrors.filter((error) => error.includes(admin.url)), [], 'no errors in the console\'s pages (the CSP blocks nothing they need)')
})
