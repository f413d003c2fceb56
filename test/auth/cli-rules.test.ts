// The CLIs apply the rules of the HTTP API (usernames, client ids, scopes), and those that work on
// existing data refuse a database that does not exist, in one line naming it, creating nothing.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCli, testDir } from '../helper.js'
import { testServices } from '../services.js'

const USER_CLIS = ['user-disable', 'user-enable', 'user-unlock', 'sessions-revoke']
const CLIENT_CLIS = ['client-disable', 'client-enable', 'client-delete', 'client-rotate-secret']

/** Runs each [cli, ...args] with `env`, four at a time (each child loads the whole service). */
async function runAll (runs: string[][], env: Record<string, string>) {
  const results: Array<Awaited<ReturnType<typeof runCli>>> = []
  for (let i = 0; i < runs.length; i += 4) {
    results.push(...await Promise.all(runs.slice(i, i + 4).map(([cli, ...args]) => runCli(cli!, args, env))))
  }
  return results
}

t.test('a name the HTTP API would refuse is refused by every CLI: exit 2, nothing changed', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'never-created.sqlite')}` }
  // One refused name per CLI (each wires its rule); the rules themselves are store/users.ts and store/clients.ts.
  const names = ['   ', 'x'.repeat(65), 'tab\there', 'bell\u0007', 'has space', '3f1c2e0a-5b7d-4c8e-9a6f-2d4b8e1c7a90', 'x'.repeat(129), 'a/b']
  const refusals = [...USER_CLIS, ...CLIENT_CLIS].map((cli, i) => [cli, names[i]!])
  const results = await runAll(refusals, env)
  for (const [i, result] of results.entries()) {
    const [cli, name] = refusals[i]!
    t.equal(result.code, 2, `${cli} ${JSON.stringify(name)}`)
    t.match(result.stderr, USER_CLIS.includes(cli!)
      ? /^".*" is refused: a username is 1 to 64 characters \(spaces around it do not count\), with no control characters; nothing changed\.\n$/
      : /^".*" is refused: a client id (is 1 to 128 letters|cannot be shaped like a UUID)/)
  }
  t.notOk(existsSync(join(testDir(t), 'never-created.sqlite')), 'no database was created')
})

t.test('user:add and client:add refuse what could never log in or get a token', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'never-created.sqlite')}` }
  const [blank, long, noScopes, badAudience] = await runAll([
    ['user-add', '   '],
    ['user-add', 'u'.repeat(80)],
    ['client-add', 'billing', '--scopes', ','],
    ['client-add', 'billing', '--scopes', 'orders:read', '--audiences', 'a\\b']
  ], env)
  t.match(blank, { code: 2, stderr: /^User " {3}" not created: a username is 1 to 64 characters/ })
  t.match(long, { code: 2, stderr: /^User "u{80}" not created: a username is 1 to 64 characters/ })
  t.match(noScopes, { code: 2, stderr: 'Client billing not created: a client needs at least one scope (it could never get a token)' })
  t.match(badAudience, { code: 2, stderr: 'Client billing not created: an audience is 1 to 256 printable ASCII characters' })
  t.notOk(existsSync(join(testDir(t), 'never-created.sqlite')), 'no database was created')
})

t.test('no database at DATABASE_URL: the CLIs on existing data exit 1 in one line naming it, and creates none', async (t) => {
  const path = join(testDir(t), 'typo', 'auth.sqlite')
  const env = { DATABASE_URL: `sqlite:${path}`, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }
  // runAdminCommand opens the database for every user and client CLI: one of each, and the rotation.
  const runs = [['user-unlock', 'testuser'], ['client-delete', 'billing'], ['keys-rotate']]
  const results = await runAll(runs, env)
  for (const [i, result] of results.entries()) {
    t.same(result, { code: 1, stdout: '', stderr: `No database at ${path} (DATABASE_URL); nothing changed.\n` }, runs[i]!.join(' '))
  }
  t.notOk(existsSync(join(testDir(t), 'typo')), 'not even its folder')
})

t.test('no PostgreSQL database of that name: the same line, naming the database and host (no password)', async (t) => {
  const base = testServices(t, 'postgres')?.postgres
  if (!base) return
  const url = new URL(base)
  url.pathname = '/no_such_database_here'
  url.password = 'never-printed'
  const result = await runCli('user-disable', ['testuser'], { DATABASE_URL: url.href })
  t.same(result, { code: 1, stdout: '', stderr: `No database no_such_database_here at ${url.host} (DATABASE_URL); nothing changed.\n` })
})
