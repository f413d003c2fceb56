// Many revocations and slow followers: a big snapshot is paged and paced by the follower's
// reading, a follower that leaves mid-snapshot is forgotten, and one that stalls while live
// events pile up is dropped (the heap stays bounded) and resumes where it stopped.
import { sql } from 'kysely'
import t from 'tap'
import { startAuth } from '../helper.js'
import { follow } from './follow.js'

const COUNT = 100_000

/** `count` live revocations in one statement, as if that many sessions had just been revoked. */
async function bulkRevoke (auth: Awaited<ReturnType<typeof startAuth>>, count: number) {
  const expires = new Date(Date.now() + 3_600_000).toISOString()
  await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
    insert into revocations (hash, expires_at, created_at) select 'bulk-' || i, ${expires}, ${new Date().toISOString()} from n`.execute(auth.store.db)
}

async function followersOf (auth: Awaited<ReturnType<typeof startAuth>>) {
  return Number(/^auth_revocation_feed_followers (\d+)$/m.exec((await auth.inject('/metrics')).body)![1])
}

t.test(`a snapshot of ${COUNT} revocations arrives whole and in order; a follower leaving midway is forgotten`, async (t) => {
  const auth = await startAuth(t, { REVOCATION_FEED_POLL_MS: '20' })
  await bulkRevoke(auth, COUNT)

  const started = Date.now()
  const feed = await follow(auth.url)
  const { revoked, synced } = await feed.snapshot()
  t.comment(`snapshot of ${COUNT} revocations over HTTP in ${Date.now() - started} ms`)
  feed.close()
  t.equal(revoked.length, COUNT)
  t.ok(revoked.every((event, i) => i === 0 || event.id > revoked[i - 1]!.id), 'in id order')
  t.equal(synced, String(revoked.at(-1)!.id))

  // A revocation committed while a follower is still taking the snapshot comes right after it.
  const slow = await follow(auth.url)
  await slow.until(() => true)
  const { revocations } = auth.store
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'during-the-snapshot', Math.floor(Date.now() / 1000) + 60))
  const newest = await revocations.newest()
  while (!new RegExp(`^auth_revocation_feed_last_id ${newest}$`, 'm').test((await auth.inject('/metrics')).body)) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.equal((await slow.snapshot()).revoked.length, COUNT - 1, 'the rest of the snapshot')
  t.match(await slow.next(), [{ id: newest }], 'then what was committed meanwhile')
  slow.close()

  const leaving = await follow(auth.url)
  await leaving.until(() => true)
  leaving.close()
  while (await followersOf(auth) > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.pass('the follower that left mid-snapshot is forgotten')
})

t.test('a follower that stops reading while events pile up is dropped, and resumes with Last-Event-ID', async (t) => {
  const auth = await startAuth(t, {}, { revocationFeed: { pollInterval: 20, heartbeatInterval: 15_000, maxPendingBytes: 64 * 1024 } })
  const stalled = await follow(auth.url)
  await stalled.snapshot()
  await bulkRevoke(auth, COUNT)
  // It reads nothing until the service has given up on it.
  while (await followersOf(auth) > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  await stalled.ended()
  const got = stalled.received().filter((event) => event.event === 'revoked')
  t.ok(got.length < COUNT, `dropped after ${got.length} of ${COUNT} events`)

  const resumed = await follow(auth.url, got.at(-1)?.id)
  const { revoked } = await resumed.snapshot()
  resumed.close()
  t.equal(got.length + revoked.length, COUNT, 'it resumes with the rest, nothing twice')
  t.equal(revoked[0]!.id, Number(got.at(-1)?.id ?? 0) + 1)
})
