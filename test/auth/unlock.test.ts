// npm run user:unlock as an operator runs it against running services: the lockout ends at once,
// whether the counts live in the service's own process or in Redis, for clients with and without
// a device cookie.
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { addUser, buildAuth, captureLogs, COOKIE_SECRET, runCli, startAuth, testDir } from '../helper.js'
import { redisUrl } from '../redis.js'
import { Client } from './throttle-scenarios.js'

const PASSWORD = 'correct horse battery'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('in the service\'s own counts (no REDIS_URL): a login right after the CLI is admitted', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}` }
  const auth = await startAuth(t, { ...env, LOGIN_MAX_PER_USERNAME: '2', LOGIN_MAX_PER_DEVICE: '1' })
  await addUser(auth, 'alice', PASSWORD)
  const [device, stranger] = [new Client([auth], '127.0.0.1'), new Client([auth], '127.0.0.1')]
  t.equal((await device.login('alice', PASSWORD)).status, 200)
  t.same([(await stranger.login('alice', 'wrong')).status, (await stranger.login('alice', 'wrong')).status, (await stranger.login('alice', PASSWORD)).status],
    [401, 401, 429], 'locked out')
  t.same([(await device.login('alice', 'typo')).status, (await device.login('alice', PASSWORD)).status], [401, 429], 'and the owner\'s device too')

  const [unlocked, unknown] = await Promise.all([runCli('user-unlock', ['ALICE'], env), runCli('user-unlock', ['nobody'], env)])
  t.same(unlocked, { code: 0, stdout: 'Login throttling of ALICE cleared; every auth replica forgets it within a second.\n', stderr: '' })
  t.same(unknown, { code: 1, stdout: '', stderr: 'No user nobody; nothing changed.\n' })
  t.equal((await stranger.login('alice', PASSWORD)).status, 200, 'a login right after: 200')
  t.equal((await device.login('alice', PASSWORD)).status, 200, 'from the device too')
})

t.test('in Redis, for two replicas: the CLI clears Redis itself', async (t) => {
  const url = redisUrl(t)
  if (!url) return
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, REDIS_URL: url }
  const shared = { ...env, COOKIE_SECRET, LOGIN_MAX_PER_USERNAME: '1', LOGIN_MAX_PER_DEVICE: '1', TRUST_PROXY: '1' }
  const replicas = [await startAuth(t, shared), await startAuth(t, shared)]
  const username = `user-${randomUUID()}`
  await addUser(replicas[0]!, username, PASSWORD)
  const device = new Client(replicas, `10.77.${Math.floor(Math.random() * 250)}.1`)
  t.equal((await device.login(username, PASSWORD)).status, 200)
  t.equal((await device.login(username, 'typo')).status, 401)
  t.equal((await new Client(replicas, '10.78.0.1').login(username, 'wrong')).status, 401)
  const before = [(await device.login(username, PASSWORD)).status, (await new Client(replicas, '10.78.0.2').login(username, PASSWORD)).status]
  t.same(before, [429, 429], 'the device and everyone else wait')

  const unlocked = await runCli('user-unlock', [username], env)
  t.equal(unlocked.code, 0, unlocked.stderr)
  t.equal((await device.login(username, PASSWORD)).status, 200, 'the device, at the other replica')
  t.equal((await new Client(replicas, '10.78.0.3').login(username, PASSWORD)).status, 200, 'a new client')
})

t.test('Redis unreachable: the unlock is recorded for the replicas, and the CLI says Redis did not answer', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}` }
  const auth = await startAuth(t, env)
  await addUser(auth, 'carol', PASSWORD)
  const result = await runCli('user-unlock', ['carol'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' })
  t.equal(result.code, 1)
  t.match(result.stderr, /^Redis \(REDIS_URL\) did not answer: .*\. The unlock is recorded: every auth replica applies it within a second\n$/)
  t.match(await auth.store.loginUnlocks.after(0), [{ username: 'carol' }])
})

t.test('a refused login reads new unlocks at once, without waiting for the next read', async (t) => {
  const app = await buildAuth(t, { LOGIN_MAX_PER_USERNAME: '1' })
  await app.ready()
  const started = Date.now()
  await addUser(app, 'alice', PASSWORD)
  const login = (password: string) => app.inject({
    method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'alice', password })
  })
  t.same([(await login('wrong')).statusCode, (await login(PASSWORD)).statusCode], [401, 429], 'locked out')
  // Just after a background read (one a second from the start), so that only the refused login can read it.
  await sleep(started + 1000 * Math.ceil((Date.now() - started + 1) / 1000) + 200 - Date.now())
  await app.store.loginUnlocks.record('alice')
  t.equal((await login(PASSWORD)).statusCode, 200)
})

t.test('each replica reads new unlocks once a second, never the ones from before it started; a failed read is one warning', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const dir = testDir(t)
  const before = await buildAuth(t, { DATABASE_URL: `sqlite:${join(dir, 'auth.sqlite')}` })
  await before.ready()
  await before.store.loginUnlocks.record('old')
  const app = await buildAuth(t, { DATABASE_URL: `sqlite:${join(dir, 'auth.sqlite')}`, LOGIN_MAX_PER_USERNAME: '1' }, { logger })
  await app.ready()
  const lockOut = async (username: string) => {
    const attempt = await app.loginThrottle.admit(username, '10.0.0.1')
    if (!attempt.refused) await attempt.failed()
    return (await app.loginThrottle.admit(username, '10.0.0.2')).refused
  }
  t.ok(await lockOut('old') && await lockOut('alice'), 'both locked out')
  await before.store.loginUnlocks.record('Alice')
  await sleep(1200)
  t.equal((await app.loginThrottle.admit('alice', '10.0.0.2')).refused, false, 'alice: applied by the background read')
  t.equal((await app.loginThrottle.admit('old', '10.0.0.2')).refused, true, 'an unlock from before the start is not')

  await app.store.db.schema.alterTable('login_unlocks').renameTo('elsewhere').execute()
  await sleep(2200)
  await app.store.db.schema.alterTable('elsewhere').renameTo('login_unlocks').execute()
  await before.store.loginUnlocks.record('old')
  await sleep(1200)
  t.equal(lines.filter((line) => line.msg === 'login unlocks not read; retrying').length, 1, 'one warning for two failed reads')
  t.equal((await app.loginThrottle.admit('old', '10.0.0.2')).refused, false, 'and it reads again once the table is back')
})
