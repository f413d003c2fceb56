// The feed across the service's life: keep-alives, close() and SIGTERM ending open streams, and a
// restart in between that loses nothing (the database is the record).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { createStore } from '../../services/auth/store/index.js'
import { addUser, childProcessEnv, COOKIE_SECRET, login, makeKeysDir, reservePort, startAuth, testDir } from '../helper.js'
import { follow, sidHash } from './follow.js'

const PASSWORD = 'correct horse battery'

t.test('the feed settings: a poll every 250 ms and a keep-alive every 15 s by default; no heartbeat under 1 s', async (t) => {
  t.same(authAppOptions(loadAuthEnv({})).revocationFeed, { pollInterval: 250, heartbeatInterval: 15_000, maxStreams: 200, maxStreamsPerAddress: 20 })
  t.same(authAppOptions(loadAuthEnv({ REVOCATION_FEED_POLL_MS: '100', REVOCATION_FEED_HEARTBEAT: '1m' })).revocationFeed,
    { pollInterval: 100, heartbeatInterval: 60_000, maxStreams: 200, maxStreamsPerAddress: 20 })
  t.throws(() => authAppOptions(loadAuthEnv({ REVOCATION_FEED_HEARTBEAT: '0s' })), /REVOCATION_FEED_HEARTBEAT must be at least 1s/)
  t.throws(() => loadAuthEnv({ REVOCATION_FEED_POLL_MS: '5' }), /REVOCATION_FEED_POLL_MS must be >= 10/)
})

t.test('every stream gets a keep-alive comment each heartbeat', async (t) => {
  const auth = await startAuth(t, {}, { revocationFeed: { pollInterval: 20, heartbeatInterval: 30 } })
  const feed = await follow(auth.url)
  await feed.snapshot()
  await feed.keepAlives(2)
  t.ok(feed.comments() >= 2)
  feed.close()
})

t.test('close() ends open streams; after a restart a follower resumes and misses nothing', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, KEYS_DIR: await makeKeysDir(t), REVOCATION_FEED_POLL_MS: '20' }
  const first = await startAuth(t, env)
  await addUser(first, 'alice', PASSWORD)
  const sessions = await Promise.all([1, 2, 3].map(async () => (await login(first.url, 'alice', PASSWORD)).body as Record<string, string>))
  const feed = await follow(first.url)
  await feed.snapshot()
  await fetch(`${first.url}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: sessions[0]!.refresh_token }) })
  const [seen] = await feed.next()
  t.equal(seen!.hash, sidHash(sessions[0]!.access_token!))

  await Promise.all([first.close(), feed.ended()])
  t.pass('close() ended the open stream, and finished')

  // While the service is down an operator revokes alice's other sessions (what sessions:revoke does).
  const store = createStore({ url: env.DATABASE_URL, accessTokenTtl: 900, refreshTokens: { absoluteTtl: 3600, idleTtl: 600 } })
  t.same(await store.userAdmin.revokeSessions('alice'), { sessions: 2 })
  await store.db.destroy()

  const second = await startAuth(t, env)
  const resumed = await follow(second.url, String(seen!.id))
  const { revoked } = await resumed.snapshot()
  t.same(revoked.map((event) => event.hash).sort(), [sessions[1]!, sessions[2]!].map((session) => sidHash(session.access_token!)).sort(),
    'exactly what it missed: not the one it had')
  resumed.close()
})

t.test('SIGTERM with followers connected: the streams end and the process exits 0', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, KEYS_DIR: await makeKeysDir(t) }
  const { port, close } = await reservePort()
  await close()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/auth/server.ts'], {
    env: childProcessEnv({ ...env, COOKIE_SECRET, AUTH_PORT: String(port), ISSUER_URL: url, LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); if (output.includes('Server listening')) resolve() })
    child.on('exit', () => reject(new Error(`the server exited: ${output}`)))
  })
  const feeds = [await follow(url), await follow(url)]
  for (const feed of feeds) await feed.snapshot()
  child.kill('SIGTERM')
  await Promise.all(feeds.map((feed) => feed.ended()))
  t.equal(await exited, 0, 'exit code 0, well before close-with-grace\'s 10 s delay would force it')
})
