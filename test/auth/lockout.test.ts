// Login throttling as attacker and owner meet it over real HTTP, behind a trusted proxy (TRUST_PROXY=1)
// that names each client in X-Forwarded-For: guessing is slowed, the owner is never locked out.
import t, { type Test } from 'tap'
import { addUser, startAuth, type Env } from '../helper.js'

type Auth = Awaited<ReturnType<typeof startAuth>>

/** POST /auth/login as the client at `address`; the status and Retry-After. */
async function loginFrom (auth: Auth, address: string, username: string, password: string) {
  const response = await fetch(`${auth.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ username, password })
  })
  const body = await response.json() as { code?: string }
  return { status: response.status, code: body.code, retryAfter: Number(response.headers.get('retry-after')) }
}

async function serviceWithOwner (t: Test, env: Env = {}) {
  const auth = await startAuth(t, { TRUST_PROXY: '1', ...env })
  await addUser(auth, 'testuser', 'password')
  return auth
}

const OWNER = '198.51.100.7'
const attacker = (n: number) => `203.0.113.${n}`

for (const guesses of [10, 15]) {
  t.test(`${guesses} wrong passwords from ${guesses} addresses, then the owner from their own address: 200`, async (t) => {
    const auth = await serviceWithOwner(t)
    for (let n = 1; n <= guesses; n++) t.equal((await loginFrom(auth, attacker(n), 'testuser', 'wrong')).status, 401, `guess ${n}`)
    t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200, 'the owner logs in')
    const again = await loginFrom(auth, attacker(1), 'testuser', 'password')
    t.equal(again.status, 429, 'an address that failed is refused, even with the right password: it learns nothing')
    t.equal(again.code, 'AUTH_RATE_LIMITED')
    t.ok(again.retryAfter > 0, 'with Retry-After')
  })
}

t.test('30 guesses from 30 addresses of one IPv6 /64: the 21st is 429; another /64 is not', async (t) => {
  const auth = await serviceWithOwner(t)
  const statuses = []
  for (let n = 1; n <= 30; n++) statuses.push((await loginFrom(auth, `2001:db8:1:2::${n.toString(16)}`, `user${n}`, 'wrong')).status)
  t.same(statuses, [...Array(20).fill(401), ...Array(10).fill(429)])
  t.equal((await loginFrom(auth, '2001:db8:1:3::1', 'user1', 'wrong')).status, 401, 'the next /64 has its own count')
  t.equal((await loginFrom(auth, '::ffff:203.0.113.9', 'user1', 'wrong')).status, 401, 'an IPv4-mapped address counts as its IPv4 address')
})

t.test('one IPv4 address: 429 at its 21st failure, whatever the usernames', async (t) => {
  const auth = await serviceWithOwner(t)
  for (let n = 1; n <= 20; n++) t.equal((await loginFrom(auth, attacker(1), `user${n}`, 'wrong')).status, 401)
  t.equal((await loginFrom(auth, attacker(1), 'user21', 'wrong')).status, 429)
  t.equal((await loginFrom(auth, attacker(1), 'testuser', 'password')).status, 429, 'a right password from that address waits too')
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200, 'the owner elsewhere does not')
})

t.test('a success resets only its own address\'s count for that username', async (t) => {
  const auth = await serviceWithOwner(t, { LOGIN_MAX_PER_USERNAME_AND_IP: '3' })
  for (let n = 1; n <= 3; n++) t.equal((await loginFrom(auth, attacker(1), 'testuser', 'wrong')).status, 401)
  t.equal((await loginFrom(auth, attacker(1), 'testuser', 'wrong')).status, 429)
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200, 'the owner logs in elsewhere')
  t.equal((await loginFrom(auth, attacker(1), 'testuser', 'wrong')).status, 429, 'the other address is still counted')

  for (let n = 1; n <= 2; n++) t.equal((await loginFrom(auth, OWNER, 'testuser', 'typo')).status, 401)
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200)
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'typo')).status, 401, 'the owner\'s own typos are forgiven by a success')
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200)
})

t.test('beyond the per-username cap, each failing address waits a doubling delay, up to LOGIN_MAX_DELAY', async (t) => {
  const auth = await serviceWithOwner(t, { LOGIN_MAX_PER_USERNAME: '2', LOGIN_RATE_WINDOW: '10s', LOGIN_MAX_DELAY: '60s' })
  for (let n = 1; n <= 6; n++) t.equal((await loginFrom(auth, attacker(n), 'testuser', 'wrong')).status, 401, `guess ${n} from a fresh address`)
  const waits = []
  for (let n = 2; n <= 6; n++) {
    const answer = await loginFrom(auth, attacker(n), 'testuser', 'wrong')
    t.equal(answer.status, 429)
    waits.push(answer.retryAfter)
  }
  // Failure 2 reached the cap (10 s), then 20, 40, 80 → capped at 60; a second or two may have passed.
  t.ok(waits[0]! <= 10 && waits[1]! > 10 && waits[1]! <= 20 && waits[2]! > 20 && waits[2]! <= 40, `doubling: ${waits.join(', ')} s`)
  t.ok(waits[3]! > 40 && waits[3]! <= 60 && waits[4]! > 40 && waits[4]! <= 60, `capped at 60 s: ${waits.join(', ')} s`)
  t.equal((await loginFrom(auth, OWNER, 'testuser', 'password')).status, 200, 'the owner, from an address that has not failed, logs in')
})
