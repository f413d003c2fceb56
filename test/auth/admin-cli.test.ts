// The user, session and client CLIs as an operator runs them (real child processes) against the
// database of a running auth service: exit codes, what they print, and each revocation reaching
// a follower of the service's feed (committed by another process, found by polling).
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { revocationHash } from '../../plugins/shared/revocation-hash.js'
import { addUser, login, runCli, startAuth, testDir } from '../helper.js'
import { basic } from '../sessions/helpers.js'
import { follow, sidHash } from '../revocations/follow.js'

const PASSWORD = 'correct horse battery'
const cli = runCli

async function setUp (t: Test) {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}` }
  const auth = await startAuth(t, { ...env, REVOCATION_FEED_POLL_MS: '20', LOGIN_MAX_PER_USERNAME: '100' })
  const feed = await follow(auth.url)
  await feed.snapshot()
  t.teardown(feed.close)
  return { auth, feed, env }
}

t.test('user:disable, user:enable and sessions:revoke', async (t) => {
  const { auth, feed, env } = await setUp(t)
  await addUser(auth, 'alice', PASSWORD)
  const sessions = [await login(auth.url, 'alice', PASSWORD), await login(auth.url, 'alice', PASSWORD)].map((answer) => answer.body.access_token as string)

  const disabled = await cli('user-disable', ['Alice'], env)
  t.same(disabled, { code: 0, stdout: 'User Alice disabled; 2 sessions revoked.\n', stderr: '' })
  t.same((await feed.next(2)).map((event) => event.hash).sort(), sessions.map(sidHash).sort(), 'every session of the user')
  t.equal((await login(auth.url, 'alice', PASSWORD)).status, 401, 'and the user cannot log in')

  const enabled = await cli('user-enable', ['alice'], env)
  t.same(enabled, { code: 0, stdout: 'User alice enabled; they may log in again.\n', stderr: '' })
  const again = await login(auth.url, 'alice', PASSWORD)
  t.equal(again.status, 200)

  const revoked = await cli('sessions-revoke', ['alice'], env)
  t.same(revoked, { code: 0, stdout: '1 session of alice revoked.\n', stderr: '' })
  t.equal((await feed.next())[0]!.hash, sidHash(again.body.access_token as string))
  t.equal((await login(auth.url, 'alice', PASSWORD)).status, 200, 'without disabling the user')

  // Independent of each other: run together.
  const [unknown, ...usages] = await Promise.all([['nobody'], [], ['alice', 'bob'], ['--force', 'alice']].map((args, i) =>
    cli(i === 0 ? 'user-disable' : 'sessions-revoke', args, env)))
  t.same(unknown, { code: 1, stdout: '', stderr: 'No user nobody; nothing changed.\n' })
  for (const usage of usages) {
    t.equal(usage.code, 2)
    t.match(usage.stderr, /^usage: npm run sessions:revoke -- <username>/)
  }
})

t.test('client:rotate-secret, client:disable, client:enable and client:delete', async (t) => {
  const { auth, feed, env } = await setUp(t)
  const { clientSecret: oldSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const token = async (secret: string) => {
    const response = await fetch(`${auth.url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('billing', secret) }, body: 'grant_type=client_credentials'
    })
    return { status: response.status, body: await response.json() as Record<string, string> }
  }
  const before = (await token(oldSecret)).body.access_token!

  const rotated = await cli('client-rotate-secret', ['billing'], env)
  t.equal(rotated.code, 0, rotated.stderr)
  const lines = rotated.stdout.trimEnd().split('\n')
  const newSecret = lines.at(-1)!
  t.match(lines[0], /^Client billing: new secret; the old one no longer works and its tokens are revoked/)
  t.match(newSecret, /^[\w-]{43}$/, 'the new secret, alone on the last line')
  t.equal((await feed.next())[0]!.hash, sidHash(before), 'the tokens of the old secret are revoked')
  t.equal((await token(oldSecret)).status, 401, 'the old secret no longer works')
  const after = (await token(newSecret)).body.access_token!
  t.not(decodeJwt(after).sid, decodeJwt(before).sid, 'a new generation')

  const disabled = await cli('client-disable', ['billing'], env)
  t.same(disabled, { code: 0, stdout: 'Client billing disabled; its tokens are revoked.\n', stderr: '' })
  t.equal((await feed.next())[0]!.hash, sidHash(after))
  t.match(await token(newSecret), { status: 401, body: { error: 'invalid_client' } }, 'a disabled client gets no token')
  const twice = await cli('client-disable', ['billing'], env)
  t.same(twice, { code: 0, stdout: 'Client billing is already disabled; nothing changed.\n', stderr: '' })

  t.same(await cli('client-enable', ['billing'], env), { code: 0, stdout: 'Client billing enabled.\n', stderr: '' })
  const enabled = (await token(newSecret)).body.access_token!
  t.not(decodeJwt(enabled).sid, decodeJwt(after).sid, 'enabled under a new generation: the revoked tokens stay revoked')

  t.same(await cli('client-delete', ['billing'], env), { code: 0, stdout: 'Client billing deleted; its tokens are revoked.\n', stderr: '' })
  t.equal((await feed.next())[0]!.hash, revocationHash('sid', decodeJwt(enabled).sid as string))
  t.equal((await token(newSecret)).status, 401)
  const scripts = ['client-delete', 'client-disable', 'client-enable', 'client-rotate-secret']
  const results = await Promise.all(scripts.map((script) => cli(script, ['billing'], env)))
  for (const [i, result] of results.entries()) {
    t.same(result, { code: 1, stdout: '', stderr: 'No client billing; nothing changed.\n' }, `${scripts[i]}: no such client`)
  }
})
