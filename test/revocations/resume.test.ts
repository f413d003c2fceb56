// What a follower gets when it connects: a snapshot of the live revocations after its
// Last-Event-ID, a `synced` marker, then each new one; nothing lost, nothing twice.
import t, { type Test } from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { follow, sidHash } from './follow.js'

const PASSWORD = 'correct horse battery'

async function post (url: string, body: unknown) {
  return (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status
}

async function authWithAlice (t: Test) {
  const auth = await startAuth(t, { REVOCATION_FEED_POLL_MS: '20' })
  await addUser(auth, 'alice', PASSWORD)
  /** Logs alice in and out; returns the digest the feed publishes for that session. */
  const loggedOut = async () => {
    const { body } = await login(auth.url, 'alice', PASSWORD)
    t.equal(await post(`${auth.url}/auth/logout`, { refresh_token: body.refresh_token }), 204)
    return sidHash(body.access_token as string)
  }
  return { auth, loggedOut }
}

t.test('a follower that starts after revocations gets them all, then resumes from any id', async (t) => {
  const { auth, loggedOut } = await authWithAlice(t)
  const hashes = [await loggedOut(), await loggedOut(), await loggedOut()]

  const first = await follow(auth.url)
  const { revoked, synced } = await first.snapshot()
  first.close()
  t.same(revoked.map((event) => event.hash), hashes, 'the snapshot, in id order')
  const ids = revoked.map((event) => event.id)
  t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'ids grow')
  t.equal(synced, String(ids[2]), 'synced names the newest id sent')

  const cases: Array<[string, number[], string]> = [
    [String(ids[0]), [ids[1]!, ids[2]!], String(ids[2])],
    [String(ids[2]), [], String(ids[2])],
    ['0', ids, String(ids[2])],
    // Greater than the newest id: from another database (a reset); everything again.
    ['99999999999999999999', ids, String(ids[2])]
  ]
  for (const [lastEventId, expected, expectedSynced] of cases) {
    const feed = await follow(auth.url, lastEventId)
    const snapshot = await feed.snapshot()
    feed.close()
    t.same(snapshot.revoked.map((event) => event.id), expected, `Last-Event-ID ${lastEventId}`)
    t.equal(snapshot.synced, expectedSynced)
  }

  const live = await follow(auth.url, String(ids[2]))
  t.same(await live.snapshot(), { revoked: [], synced: String(ids[2]) })
  const next = await loggedOut()
  const [event] = await live.next()
  t.match(event, { hash: next }, 'then each new revocation, once')
  t.ok(event!.id > ids[2]!)
  live.close()
})

t.test('the honoured Last-Event-ID is the synced id when nothing newer is live', async (t) => {
  const { auth, loggedOut } = await authWithAlice(t)
  await loggedOut()
  const { revoked } = await (await follow(auth.url)).snapshot()
  // The only revocation expires: a follower that had it hears nothing, and is told where it is.
  await auth.store.db.updateTable('revocations').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute()
  const feed = await follow(auth.url, String(revoked[0]!.id))
  t.same(await feed.snapshot(), { revoked: [], synced: String(revoked[0]!.id) })
  const fresh = await follow(auth.url)
  t.same(await fresh.snapshot(), { revoked: [], synced: '' }, 'an expired revocation is not published')
  feed.close()
  fresh.close()
})

t.test('an expired revocation committed while a follower listens is not sent', async (t) => {
  const { auth, loggedOut } = await authWithAlice(t)
  const feed = await follow(auth.url)
  await feed.snapshot()
  const { revocations } = auth.store
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'already-expired', Math.floor(Date.now() / 1000) - 1))
  const live = await loggedOut()
  t.match(await feed.next(), [{ hash: live }], 'only the live one')
  feed.close()
})

t.test('a revocation committed elsewhere just before a follower connects is sent once', async (t) => {
  // No timer polls during this test: the feed reads the table only when a local commit wakes it.
  const auth = await startAuth(t, {}, { revocationFeed: { pollInterval: 3_600_000, heartbeatInterval: 15_000 } })
  await addUser(auth, 'alice', PASSWORD)
  const expires = new Date(Date.now() + 60_000).toISOString()
  // As a CLI process commits it: the service has not read it yet.
  await auth.store.db.insertInto('revocations').values({ hash: 'from-a-cli', expires_at: expires, created_at: expires }).execute()
  const feed = await follow(auth.url)
  t.match((await feed.snapshot()).revoked, [{ hash: 'from-a-cli' }], 'in the snapshot')
  const { body } = await login(auth.url, 'alice', PASSWORD)
  await post(`${auth.url}/auth/logout`, { refresh_token: body.refresh_token })
  // The wake reads from before the CLI's row: the follower already has it.
  t.match(await feed.next(), [{ hash: sidHash(body.access_token as string) }], 'the next event is the logout, not the same one again')
  feed.close()
})

t.test('a Last-Event-ID that is not a decimal integer is a 400 with a stable code', async (t) => {
  const { auth } = await authWithAlice(t)
  for (const value of ['abc', '-1', '1.5', '1e3', '0x10', '12 13']) {
    const feed = await follow(auth.url, value)
    t.equal(feed.status, 400, value)
    t.match(await feed.json(), { statusCode: 400, code: 'REVOCATION_BAD_EVENT_ID', error: 'Bad Request' })
  }
  const empty = await follow(auth.url, '')
  t.equal(empty.status, 200, 'an empty one is no id (EventSource never sends it)')
  empty.close()
})
