// Login throttling as owners and attackers meet it over real HTTP, behind a trusted proxy
// (TRUST_PROXY=1) that names each client in X-Forwarded-For; clients that keep cookies as browsers
// and `curl -c/-b` do. The same scenarios run on one SQLite service and on two replicas sharing
// PostgreSQL and Redis (requests alternate between them). Redis outlives a run: every run uses
// usernames and address blocks of its own.
import { randomBytes, randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import type { Test } from 'tap'

export interface Replica { url: string }

/** The throttle settings the scenarios count with (the defaults). */
export const LIMITS = { perUsername: 10, perIp: 20 }
export const OWNER_PASSWORD = 'correct horse battery'

/** A client at one address, with its cookie jar; it answers through the replicas in turn. */
export class Client {
  readonly cookies = new Map<string, string>()
  private turn = 0

  constructor (private readonly replicas: Replica[], public address: string) {}

  async login (username: string, password: string, keepCookies = true) {
    const replica = this.replicas[this.turn++ % this.replicas.length]!
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(`${replica.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': this.address, ...(cookie && { cookie }) },
      body: JSON.stringify({ username, password })
    })
    for (const line of keepCookies ? response.headers.getSetCookie() : []) {
      const [pair] = line.split(';')
      this.cookies.set(pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1))
    }
    const body = await response.json() as { code?: string }
    return { status: response.status, code: body.code, retryAfter: Number(response.headers.get('retry-after')) }
  }
}

const FLOODERS = 10

/** `total` failed logins spread over the replicas, the `n`th from `client(n)`; the count of each status. (autocannon: fetch manages 800 a second here.) */
async function flood (replicas: Replica[], total: number, client: (n: number) => { address: string, username: string }) {
  let sent = 0
  const runs = replicas.map((replica, i) => autocannon({
    url: `${replica.url}/auth/login`,
    connections: 16,
    amount: Math.floor(total / replicas.length) + (i < total % replicas.length ? 1 : 0),
    requests: [{
      method: 'POST',
      setupRequest: (request) => {
        const { address, username } = client(sent++)
        return { ...request, headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ username, password: 'wrong password' }) }
      }
    }]
  }))
  const counts: Record<string, number> = {}
  for (const result of await Promise.all(runs)) {
    for (const [status, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) counts[status] = (counts[status] ?? 0) + count
  }
  return counts
}

/** Addresses no other run uses: an IPv4 /16 and an IPv6 /48 of their own. */
function addressBlock () {
  const [a, b, c] = [...randomBytes(3)]
  const v6 = `2001:db8:${randomBytes(2).toString('hex')}`
  return { v4: (n: number) => `10.${a}.${b! ^ (n >> 8)}.${n & 255}`, v6: (net: number, host: number) => `${v6}:${net.toString(16)}::${host.toString(16)}`, c }
}

/** Every scenario of the issue, in order, against `replicas` (with an owner account created by `addUser`). */
export async function throttleScenarios (t: Test, replicas: Replica[], addUser: (username: string) => Promise<void>) {
  const addresses = addressBlock()
  const client = (n: number) => new Client(replicas, addresses.v4(n))
  const statuses = async (clients: Client[], username: string) => {
    const seen = []
    for (const each of clients) seen.push((await each.login(username, 'wrong password')).status)
    return seen
  }

  t.test('15 failures from 15 addresses, then the owner on their device: 200; the owner mistypes once from a new address: then 200', async (t) => {
    const owner = `owner-${randomUUID()}`
    await addUser(owner)
    const device = client(1)
    t.equal((await device.login(owner, OWNER_PASSWORD)).status, 200, 'the owner logs in once: a device cookie')
    const campaign = await statuses(Array.from({ length: 15 }, (_, n) => client(100 + n)), owner)
    t.same(campaign, [...Array(LIMITS.perUsername).fill(401), ...Array(15 - LIMITS.perUsername).fill(429)], 'the budget, then 429')
    device.address = addresses.v4(2)
    t.equal((await device.login(owner, OWNER_PASSWORD)).status, 200, 'the owner, from a new address: 200')
    device.address = addresses.v4(3)
    t.match(await device.login(owner, 'a typo'), { status: 401, code: 'AUTH_INVALID_CREDENTIALS' }, 'a typo from another address: 401')
    t.equal((await device.login(owner, OWNER_PASSWORD)).status, 200, 'then the right password: 200')
    const newDevice = await client(4).login(owner, OWNER_PASSWORD)
    t.match(newDevice, { status: 429, code: 'AUTH_RATE_LIMITED' }, 'a new device during the campaign waits (README: user:unlock)')
    t.ok(newDevice.retryAfter > 0 && newDevice.retryAfter <= 60, `Retry-After ${newDevice.retryAfter}`)
  })

  const target = `target-${randomUUID()}`
  const owner = client(5)
  const campaignClients = Array.from({ length: 60 }, (_, n) => client(200 + n))

  t.test('60 guesses from 60 addresses: the budget gets past the password check, the rest 429; the owner with a device cookie: 200 throughout', async (t) => {
    await addUser(target)
    t.equal((await owner.login(target, OWNER_PASSWORD)).status, 200)
    const seen = []
    for (const [n, each] of campaignClients.entries()) {
      seen.push((await each.login(target, 'wrong password')).status)
      if (n % 10 === 9) t.equal((await owner.login(target, OWNER_PASSWORD)).status, 200, `the owner after guess ${n + 1}`)
    }
    t.same(seen, [...Array(LIMITS.perUsername).fill(401), ...Array(60 - LIMITS.perUsername).fill(429)])
  })

  t.test('a 30,000-request flood from other addresses leaves that state as it was', async (t) => {
    const answers = await flood(replicas, 30_000, (n) => ({ address: addresses.v4(1000 + n % FLOODERS), username: `flood-${n}-${addresses.c}` }))
    t.same(answers, { 401: FLOODERS * LIMITS.perIp, 429: 30_000 - FLOODERS * LIMITS.perIp }, 'each flooding address: its budget, then 429')
    t.same(await statuses(campaignClients.slice(0, 5), target), Array(5).fill(429), 'the campaign\'s addresses still wait')
    t.equal((await client(300).login(target, 'wrong password')).status, 429, 'and so does a new one')
    t.equal((await owner.login(target, OWNER_PASSWORD)).status, 200, 'the owner still logs in')
  })

  t.test('30 guesses from one IPv6 /64: 429 from the 21st; the next /64 has its own count', async (t) => {
    const seen = []
    for (let n = 1; n <= 30; n++) seen.push((await new Client(replicas, addresses.v6(1, n)).login(`v6-${randomUUID()}`, 'wrong')).status)
    t.same(seen, [...Array(LIMITS.perIp).fill(401), ...Array(30 - LIMITS.perIp).fill(429)])
    t.equal((await new Client(replicas, addresses.v6(2, 1)).login(`v6-${randomUUID()}`, 'wrong')).status, 401)
  })
}
