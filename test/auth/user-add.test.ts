// npm run user:add as an operator runs it: the password comes on stdin, never in argv.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { buildAuth, childProcessEnv, testDir } from '../helper.js'

function userAdd (args: string[], databaseUrl: string, input: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'services/auth/cli/user-add.ts', ...args], {
    env: childProcessEnv({ DATABASE_URL: databaseUrl }), input, encoding: 'utf8', timeout: 30_000
  })
}

t.test('creates a user who can then log in; a second run changes nothing', async (t) => {
  const databaseUrl = `sqlite:${join(testDir(t), 'users.sqlite')}`
  const created = userAdd(['carol', '--roles', 'admin,editor'], databaseUrl, 'a long enough secret\n')
  t.equal(created.status, 0, created.stderr)
  t.match(created.stdout, /User carol created/)
  t.notMatch(created.stdout + created.stderr, /a long enough secret/, 'the password is never echoed')

  const again = userAdd(['carol'], databaseUrl, 'another secret value\n')
  t.equal(again.status, 1)
  t.match(again.stdout, /already exists/)

  const app = await buildAuth(t, { DATABASE_URL: databaseUrl })
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'carol', password: 'a long enough secret' } })
  t.equal(login.statusCode, 200, login.body)
  const user = await app.store.users.findByUsername('carol')
  t.equal(user?.roles, 'admin editor')
})

t.test('refuses a missing username and a short password', async (t) => {
  const databaseUrl = `sqlite:${join(testDir(t), 'users.sqlite')}`
  const noName = userAdd([], databaseUrl, 'whatever password\n')
  t.equal(noName.status, 2)
  t.match(noName.stderr, /usage: npm run user:add/)
  const short = userAdd(['dan'], databaseUrl, 'short\n')
  t.equal(short.status, 2)
  t.match(short.stderr, /8 to 256 characters/)
})
