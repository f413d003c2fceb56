// Refresh tokens as a client meets them: rotation, reuse detection that kills the family, the race
// rule, logout, expiry, disabled users, and rows that hold no token in clear.
import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { join } from 'node:path'
import { addUser, buildAuth, captureLogs, testDir } from '../helper.js'
import { loginPair, postJson, refresh } from './helpers.js'

async function appWithAlice (t: Test) {
  const app = await buildAuth(t)
  await addUser(app, 'alice', 'correct horse battery', ['editor'])
  return app
}

t.test('login returns a refresh token; each refresh returns a new pair and retires the old token', async (t) => {
  const app = await appWithAlice(t)
  const first = await loginPair(app, 'alice', 'correct horse battery')
  t.match(first.refresh_token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url')

  let current = first.refresh_token
  for (let step = 0; step < 3; step++) {
    const response = await refresh(app, current)
    t.equal(response.statusCode, 200)
    t.equal(response.headers['cache-control'], 'no-store')
    const pair = response.json()
    t.not(pair.refresh_token, current)
    t.match(decodeJwt(pair.access_token), { username: 'alice', roles: ['editor'], scope: 'profile', client_id: 'first-party-login' })
    current = pair.refresh_token
  }
})

t.test('reusing a rotated token revokes the family: the newest token stops working too', async (t) => {
  const app = await appWithAlice(t)
  const { refresh_token: first } = await loginPair(app, 'alice', 'correct horse battery')
  const second = (await refresh(app, first)).json().refresh_token
  const third = (await refresh(app, second)).json().refresh_token

  const replay = await refresh(app, first)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'AUTH_INVALID_GRANT')
  const newest = await refresh(app, third)
  t.equal(newest.statusCode, 401, 'the thief and the owner are both logged out')
  t.equal(newest.json().code, 'AUTH_INVALID_GRANT')

  const other = await loginPair(app, 'alice', 'correct horse battery')
  t.equal((await refresh(app, other.refresh_token)).statusCode, 200, 'another login of the same user is another family')
})

t.test('two requests racing with one token: exactly one wins, and the race revokes the family', async (t) => {
  const app = await appWithAlice(t)
  const { refresh_token: token } = await loginPair(app, 'alice', 'correct horse battery')
  const answers = await Promise.all([refresh(app, token), refresh(app, token)])
  const statuses = answers.map((answer) => answer.statusCode).sort()
  t.same(statuses, [200, 401], 'one winner, one refusal')
  const winner = answers.find((answer) => answer.statusCode === 200)!.json()
  t.equal((await refresh(app, winner.refresh_token)).statusCode, 401,
    'a race is a reuse: the winner cannot be told from a thief, so its new token is revoked with the family')
})

t.test('logout revokes the session; unknown tokens get the same 204', async (t) => {
  const app = await appWithAlice(t)
  const { refresh_token: token } = await loginPair(app, 'alice', 'correct horse battery')
  const logout = await postJson(app, '/auth/logout', { refresh_token: token })
  t.equal(logout.statusCode, 204)
  t.equal(logout.body, '')
  t.equal((await refresh(app, token)).statusCode, 401)
  t.equal((await postJson(app, '/auth/logout', { refresh_token: 'never-issued' })).statusCode, 204)
})

t.test('expired tokens and sessions are refused, and purged', async (t) => {
  const app = await appWithAlice(t)
  const idle = await loginPair(app, 'alice', 'correct horse battery')
  const absolute = await loginPair(app, 'alice', 'correct horse battery')
  const past = new Date(Date.now() - 1000).toISOString()
  const hash = (token: string) => createHash('sha256').update(token).digest('hex')
  await app.store.db.updateTable('refresh_tokens').set({ expires_at: past }).where('token_hash', '=', hash(idle.refresh_token)).execute()
  const family = await app.store.db.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hash(absolute.refresh_token)).executeTakeFirstOrThrow()
  await app.store.db.updateTable('refresh_families').set({ expires_at: past }).where('id', '=', family.family_id).execute()
  await app.store.db.updateTable('refresh_tokens').set({ expires_at: past }).where('family_id', '=', family.family_id).execute()

  t.equal((await refresh(app, idle.refresh_token)).statusCode, 401, 'unused past its idle lifetime')
  t.equal((await refresh(app, absolute.refresh_token)).statusCode, 401, 'past the session\'s absolute lifetime')
  t.equal(await app.store.refreshTokens.purgeExpired(), 1, 'the expired session is deleted')
  const left = await app.store.db.selectFrom('refresh_tokens').select('family_id').execute()
  t.notOk(left.some((row) => row.family_id === family.family_id), 'with its tokens')
})

t.test('a restarted service purges sessions that ended while it was down', async (t) => {
  const first = await appWithAlice(t)
  await loginPair(first, 'alice', 'correct horse battery')
  // Ended more than ACCESS_TOKEN_TTL + 60 s ago: its last access token has expired too.
  await first.store.db.updateTable('refresh_families').set({ expires_at: new Date(Date.now() - 961_000).toISOString() }).execute()
  await first.close()
  const { lines, logger } = captureLogs('info')
  const second = await buildAuth(t, { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, KEYS_DIR: first.keysDir }, { logger })
  await second.ready()
  t.match(lines.filter((line) => line.msg.endsWith('purged')), [{ msg: 'expired sessions, revocations and audit events purged', sessions: 1, revocations: 0, unlocks: 0 }])
  t.equal((await second.store.db.selectFrom('refresh_families').selectAll().execute()).length, 0)
})

t.test('a disabled user cannot refresh, and their session is revoked', async (t) => {
  const app = await appWithAlice(t)
  const { refresh_token: token } = await loginPair(app, 'alice', 'correct horse battery')
  await app.store.db.updateTable('users').set({ disabled: 1 }).where('username', '=', 'alice').execute()
  t.equal((await refresh(app, token)).statusCode, 401)
  await app.store.db.updateTable('users').set({ disabled: 0 }).where('username', '=', 'alice').execute()
  t.equal((await refresh(app, token)).statusCode, 401, 're-enabling the user does not revive the session')
})

t.test('the database holds hashes, never a refresh token', async (t) => {
  const app = await appWithAlice(t)
  const { refresh_token: token } = await loginPair(app, 'alice', 'correct horse battery')
  const rows = await app.store.db.selectFrom('refresh_tokens').selectAll().execute()
  t.equal(rows.length, 1)
  t.equal(rows[0]!.token_hash, createHash('sha256').update(token).digest('hex'))
  t.notOk(JSON.stringify(rows).includes(token))
})

t.test('bad refresh bodies are 400', async (t) => {
  const app = await appWithAlice(t)
  for (const body of [{}, { refresh_token: '' }, { refresh_token: 42 }, { refresh_token: 'x', extra: 1 }, { refresh_token: 'x'.repeat(513) }]) {
    const response = await postJson(app, '/auth/refresh', body)
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.equal(response.json().code, 'FST_ERR_VALIDATION')
  }
})
