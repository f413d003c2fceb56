// The docs page as a person uses it, in headless Chromium: open /docs, run POST /auth/login with
// "Try it out", and read a token in the answer. A screenshot is kept in the test's folder.
// Without /usr/bin/chromium the test is skipped, saying so (under CI, where .ci/run installs it, it fails).
import { join } from 'node:path'
import t from 'tap'
import { chromium } from 'playwright-core'
import { addUser, startAuth, testDir } from '../helper.js'
import { CHROMIUM_PATH, chromiumAvailable } from '../services.js'

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

t.test('/docs: POST /auth/login with "Try it out" shows an access token', async (t) => {
  if (!chromiumAvailable(t)) return
  const app = await startAuth(t)
  await addUser(app, 'alice', 'correct horse battery')
  const dir = testDir(t)
  const browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 1400 }
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const failedRequests: string[] = []
  page.on('requestfailed', (request) => failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`))

  const docs = await page.goto(`${app.url}/docs`)
  t.equal(docs?.status(), 200)
  t.comment(`docs page CSP: ${docs?.headers()['content-security-policy']}`)
  const login = page.locator('.opblock-post').filter({ hasText: '/auth/login' }).first()
  await login.locator('.opblock-summary').click()
  await login.getByRole('button', { name: 'Try it out' }).click()
  await login.locator('textarea.body-param__text').fill(JSON.stringify({ username: 'alice', password: 'correct horse battery' }))
  await login.getByRole('button', { name: 'Execute' }).click()
  const live = login.locator('.live-responses-table')
  await live.getByText('access_token').first().waitFor({ timeout: 15_000 })

  const text = await live.innerText()
  t.match(text, /\b200\b/, 'the answer is a 200')
  t.match(text, /"access_token": "ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"/, 'with a JWT in it')
  t.match(text, /"token_type": "Bearer"/)
  t.same(failedRequests, [], 'no request blocked by the page\'s policy')
  const screenshot = join(dir, 'docs-login.png')
  await live.scrollIntoViewIfNeeded()
  await page.screenshot({ path: screenshot })
  t.comment(`screenshot: ${screenshot}`)
  // Closed here, not only at teardown: the folder's own teardown removes it first, and a
  // browser closing later would write its profile back.
  await browser.close()
})
