// Login throttling over real HTTP on one SQLite service: the scenarios (throttle-scenarios.ts),
// then the rules around them: a device's own budget, the doubling wait, what a device cookie must be
// to count, and the per-address count.
import t from 'tap'
import { addUser, startAuth, type Env } from '../helper.js'
import { Client, OWNER_PASSWORD, throttleScenarios } from './throttle-scenarios.js'

const COOKIE_SECRET = 'a test cookie secret of at least 32 characters'

async function service (t: Parameters<typeof startAuth>[0], env: Env = {}) {
  const auth = await startAuth(t, { TRUST_PROXY: '1', COOKIE_SECRET, ...env })
  return Object.assign(auth, { addUser: (username: string) => addUser(auth, username, OWNER_PASSWORD) })
}

t.test('the scenarios, on SQLite', async (t) => {
  const auth = await service(t)
  await throttleScenarios(t, [auth], auth.addUser)
})

t.test('a device cookie has a budget of its own: 5 failures, then that device waits a window; others are not refused', async (t) => {
  const auth = await service(t)
  await auth.addUser('alice')
  const [device, other] = [new Client([auth], '198.51.100.1'), new Client([auth], '198.51.100.2')]
  t.equal((await device.login('alice', OWNER_PASSWORD)).status, 200)
  for (let n = 1; n <= 5; n++) t.equal((await device.login('alice', 'typo')).status, 401)
  const waits = await device.login('alice', OWNER_PASSWORD)
  t.match(waits, { status: 429, code: 'AUTH_RATE_LIMITED' }, 'even the right password waits: a 429 says nothing about it')
  t.ok(waits.retryAfter > 55 && waits.retryAfter <= 60, `a whole window from its last failure: ${waits.retryAfter}`)
  t.equal((await other.login('alice', OWNER_PASSWORD)).status, 200, 'another client is not refused for that device\'s failures')
})

t.test('a burst of parallel guesses cannot slip past the budget: those beyond it in flight are 429', async (t) => {
  const auth = await service(t)
  const statuses = await Promise.all(Array.from({ length: 14 }, (_, n) => new Client([auth], `203.0.113.${100 + n}`).login('frank', 'wrong')))
  t.same(statuses.map((answer) => answer.status).sort(), [...Array(10).fill(401), ...Array(4).fill(429)])
})

t.test('clients without a device cookie wait a doubling delay each time the budget is spent again, up to LOGIN_MAX_DELAY', async (t) => {
  const auth = await service(t, { LOGIN_MAX_PER_USERNAME: '1', LOGIN_RATE_WINDOW: '1s', LOGIN_MAX_DELAY: '3s' })
  const waits = []
  for (let round = 1; round <= 3; round++) {
    t.equal((await new Client([auth], `203.0.113.${round}`).login('bob', 'wrong')).status, 401, `round ${round}: one guess gets through`)
    const refused = await new Client([auth], `203.0.113.${10 + round}`).login('bob', 'wrong')
    t.equal(refused.status, 429)
    waits.push(refused.retryAfter)
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfter * 1000 + 50))
  }
  t.same(waits, [1, 2, 3], 'one window, two, then LOGIN_MAX_DELAY')
})

t.test('a cookie that is forged, altered, another user\'s or from another secret counts for nothing', async (t) => {
  const auth = await service(t, { LOGIN_MAX_PER_USERNAME: '1' })
  const other = await service(t, { COOKIE_SECRET: 'another cookie secret of 32 characters or more' })
  for (const name of ['carol', 'dave']) {
    await auth.addUser(name)
    await other.addUser(name)
  }
  const carol = new Client([auth], '192.0.2.1')
  t.equal((await carol.login('carol', OWNER_PASSWORD)).status, 200)
  const [name, value] = [...carol.cookies][0]!
  t.match(name, /^ssot-device-[\w-]{16}$/, 'a documented name, with a tag that is not the username')
  const foreign = new Client([other], '192.0.2.9')
  t.equal((await foreign.login('carol', OWNER_PASSWORD)).status, 200)
  const [foreignName, foreignValue] = [...foreign.cookies][0]!
  t.equal((await new Client([auth], '192.0.2.2').login('carol', 'wrong')).status, 401, 'the budget of clients without a cookie is spent')

  const presented = [
    [name!, `${value!.slice(0, -2)}AA`],
    [name!, value!.replace(/\.[\w-]{22}\./, `.${'A'.repeat(22)}.`)],
    [foreignName!, foreignValue!],
    [`${name}x`, value!]
  ]
  for (const [cookieName, cookieValue] of presented) {
    const client = new Client([auth], '192.0.2.3')
    client.cookies.set(cookieName!, cookieValue!)
    t.equal((await client.login('carol', OWNER_PASSWORD)).status, 429, `${cookieName}=${cookieValue!.slice(0, 12)}…: refused like no cookie`)
  }
  t.equal((await new Client([auth], '192.0.2.4').login('dave', 'wrong')).status, 401)
  const carolForDave = new Client([auth], '192.0.2.5')
  carolForDave.cookies.set(name!, value!)
  t.equal((await carolForDave.login('dave', OWNER_PASSWORD)).status, 429, 'carol\'s cookie does not vouch for dave')
  t.equal((await carol.login('carol', OWNER_PASSWORD)).status, 200, 'the real cookie, unaltered: 200')
})

t.test('one IPv4 address: 429 at its 21st failure whatever the usernames; an IPv4-mapped address counts as its IPv4 address', async (t) => {
  const auth = await service(t)
  await auth.addUser('erin')
  for (let n = 1; n <= 20; n++) t.equal((await new Client([auth], '203.0.113.1').login(`user${n}`, 'wrong')).status, 401)
  t.equal((await new Client([auth], '::ffff:203.0.113.1').login('user21', 'wrong')).status, 429)
  t.equal((await new Client([auth], '203.0.113.1').login('erin', OWNER_PASSWORD)).status, 429, 'a right password from that address waits too')
  t.equal((await new Client([auth], '203.0.113.2').login('erin', OWNER_PASSWORD)).status, 200, 'another address does not')
})
