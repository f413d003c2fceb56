// Login throttling with REDIS_URL: one count across replicas, a device cookie honoured by both; and
// logins that keep working, with local limits and a warning, when Redis cannot be reached or
// fails a command.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { addUser, buildAuth, captureLogs, reservePort } from '../helper.js'
import { redisUrl } from '../redis.js'

type App = Awaited<ReturnType<typeof buildAuth>>

function attempt (app: App, username: string, remoteAddress: string, password = 'wrong password', cookie?: string) {
  return app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { username, password }, ...(cookie && { headers: { cookie } }) })
}

// Redis outlives a test and its counters last a window: every test counts under fresh names and addresses.
const freshName = () => `user-${randomUUID()}`
const freshNetwork = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
const COOKIE_SECRET = 'one secret for both replicas: 32 characters or more'

t.test('failures count at every replica; a device cookie from one is honoured by the other', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const env = { REDIS_URL: url, LOGIN_MAX_PER_USERNAME: '3', COOKIE_SECRET }
  const replicaA = await buildAuth(t, env)
  const replicaB = await buildAuth(t, env)
  const username = freshName()
  await addUser(replicaA, username, 'the right password')
  const net = freshNetwork()
  const device = (await attempt(replicaA, username, `${net}.9`, 'the right password')).cookies[0]!

  t.equal((await attempt(replicaA, username, `${net}.1`)).statusCode, 401)
  t.equal((await attempt(replicaB, username, `${net}.2`)).statusCode, 401)
  t.equal((await attempt(replicaA, username, `${net}.3`)).statusCode, 401)
  const limited = await attempt(replicaB, username, `${net}.4`)
  t.equal(limited.statusCode, 429, 'the budget spent across A and B is spent at B')
  t.equal(limited.json().code, 'AUTH_RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.equal((await attempt(replicaA, username, `${net}.4`)).statusCode, 429, 'and at A')
  t.equal((await attempt(replicaB, username, `${net}.5`, 'the right password', `${device.name}=${device.value}`)).statusCode, 200,
    'the owner\'s device cookie from A lets them in at B')
})

t.test('an unlock at one replica clears Redis for both, and its own counts', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const env = { REDIS_URL: url, LOGIN_MAX_PER_USERNAME: '1' }
  const [replicaA, replicaB] = [await buildAuth(t, env), await buildAuth(t, env)]
  const username = freshName()
  await addUser(replicaA, username, 'the right password')
  const net = freshNetwork()
  t.equal((await attempt(replicaA, username, `${net}.1`)).statusCode, 401)
  t.equal((await attempt(replicaB, username, `${net}.2`, 'the right password')).statusCode, 429)
  await replicaA.loginThrottle.unlock(username)
  t.equal((await attempt(replicaB, username, `${net}.3`, 'the right password')).statusCode, 200)
})

t.test('Redis unreachable: logins keep working, limits fall back to this process, one warning', async (t) => {
  const closed = await reservePort()
  await closed.close()
  const { lines, logger } = captureLogs('warn')
  const app = await buildAuth(t, {
    REDIS_URL: `redis://127.0.0.1:${closed.port}`, LOGIN_MAX_PER_USERNAME: '2', LOGIN_MAX_PER_IP: '100'
  }, { logger })
  await addUser(app, 'alice', 'the right password')

  const username = freshName()
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 401)
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 401)
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 429, 'local limits still apply')
  t.equal((await attempt(app, 'alice', '10.0.0.1', 'the right password')).statusCode, 200, 'and logins work')
  const fallbacks = lines.filter((line) => /counts in this process only/.test(String(line.msg)))
  t.equal(fallbacks.length, 1, 'one warning, not one per request')
})

t.test('a Redis command that fails (a key of the wrong type) falls back to this process', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const redis = new Redis(url)
  t.teardown(() => redis.quit())
  const address = `${freshNetwork()}.1`
  await redis.set(`ssot-login:ip:${address}`, 'not a number', 'EX', 60)
  const { lines, logger } = captureLogs('warn')
  const app = await buildAuth(t, { REDIS_URL: url, LOGIN_MAX_PER_IP: '1' }, { logger })
  t.equal((await attempt(app, freshName(), address)).statusCode, 401)
  t.equal((await attempt(app, freshName(), address)).statusCode, 429, 'counted here while Redis refuses')
  t.ok(lines.some((line) => /counts in this process only/.test(String(line.msg))), 'with a warning')
})
