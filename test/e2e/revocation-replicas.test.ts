// Two auth replicas on one PostgreSQL database serve one revocation feed: what is revoked at one
// reaches followers of the other, concurrent revocations at both arrive once each in id order,
// and a replica restart loses nothing.
import t from 'tap'
import { addUser, login, makeKeysDir, startAuth } from '../helper.js'
import { freshPostgresUrl, postgresBaseUrl } from '../store/databases.js'
import { follow, sidHash } from '../revocations/follow.js'

const PASSWORD = 'correct horse battery'

async function logout (issuer: string, refreshToken: string) {
  const response = await fetch(`${issuer}/auth/logout`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: refreshToken })
  })
  return response.status
}

t.test('two replicas, one feed', async (t) => {
  const baseUrl = postgresBaseUrl(t)
  if (!baseUrl) return
  const shared = { DATABASE_URL: await freshPostgresUrl(t, baseUrl), KEYS_DIR: await makeKeysDir(t), REVOCATION_FEED_POLL_MS: '50', LOGIN_MAX_PER_USERNAME: '100' }
  const replicaA = await startAuth(t, shared)
  let replicaB = await startAuth(t, shared)
  await addUser(replicaA, 'alice', PASSWORD)
  const session = async () => (await login(replicaA.url, 'alice', PASSWORD)).body as Record<string, string>

  const atA = await follow(replicaA.url)
  const atB = await follow(replicaB.url)
  await Promise.all([atA.snapshot(), atB.snapshot()])

  const first = await session()
  t.equal(await logout(replicaA.url, first.refresh_token!), 204)
  const [fromB] = await atB.next()
  t.equal(fromB!.hash, sidHash(first.access_token!), 'a logout at A reaches a follower of B')
  t.same(await atA.next(), [fromB], 'and of A, with the same id')

  const sessions = await Promise.all(Array.from({ length: 10 }, session))
  const statuses = await Promise.all(sessions.map((s, i) => logout(i % 2 ? replicaA.url : replicaB.url, s.refresh_token!)))
  t.same(statuses, Array(10).fill(204))
  const [seenA, seenB] = await Promise.all([atA.next(10), atB.next(10)])
  t.same(seenA, seenB, 'both followers hear the same events')
  t.same(seenA.map((event) => event.hash).sort(), sessions.map((s) => sidHash(s.access_token!)).sort(), 'each revocation once')
  t.ok(seenA.every((event, i) => i === 0 || event.id > seenA[i - 1]!.id), 'in id order')
  const lastSeen = seenB.at(-1)!

  await Promise.all([replicaB.close(), atB.ended()])
  const missed = await session()
  t.equal(await logout(replicaA.url, missed.refresh_token!), 204, 'revoked while B is down')
  replicaB = await startAuth(t, shared)
  const resumed = await follow(replicaB.url, String(lastSeen.id))
  t.same((await resumed.snapshot()).revoked.map((event) => event.hash), [sidHash(missed.access_token!)],
    'B restarted: its follower resumes with exactly what it missed')
  for (const feed of [atA, resumed]) feed.close()
})
