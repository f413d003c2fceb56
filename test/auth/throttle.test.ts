// Login throttling with REDIS_URL: one count across replicas; and logins that keep working,
// with local limits and a warning, when Redis cannot be reached.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildAuth, captureLogs, reservePort } from '../helper.js'
import { redisUrl } from '../redis.js'

function attempt (app: Awaited<ReturnType<typeof buildAuth>>, username: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { username, password: 'wrong password' } })
}

t.test('the per-username limit counts attempts at every replica', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const env = { REDIS_URL: url, LOGIN_MAX_PER_USERNAME: '3', LOGIN_MAX_PER_IP: '100' }
  const replicaA = await buildAuth(t, env)
  const replicaB = await buildAuth(t, env)
  const username = `user-${randomUUID()}`

  t.equal((await attempt(replicaA, username, '10.0.0.1')).statusCode, 401)
  t.equal((await attempt(replicaB, username, '10.0.0.2')).statusCode, 401)
  t.equal((await attempt(replicaA, username, '10.0.0.3')).statusCode, 401)
  const limited = await attempt(replicaB, username, '10.0.0.4')
  t.equal(limited.statusCode, 429, 'the fourth attempt, at the other replica, is refused')
  t.equal(limited.json().code, 'AUTH_RATE_LIMITED')
})

t.test('Redis unreachable: logins keep working, limits fall back to this process, one warning', async (t) => {
  const closed = await reservePort()
  await closed.close()
  const { lines, logger } = captureLogs('warn')
  const app = await buildAuth(t, {
    REDIS_URL: `redis://127.0.0.1:${closed.port}`, LOGIN_MAX_PER_USERNAME: '2', LOGIN_MAX_PER_IP: '100'
  }, { logger })

  const username = `user-${randomUUID()}`
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 401)
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 401)
  t.equal((await attempt(app, username, '10.0.0.1')).statusCode, 429, 'local limits still apply')
  const fallbacks = lines.filter((line) => /counts in this process only/.test(String(line.msg)))
  t.equal(fallbacks.length, 1, 'one warning, not one per request')
})
