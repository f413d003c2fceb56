// The feed while PostgreSQL is unreachable: a new follower gets 503, a connected one stays
// connected and misses nothing once the database is back, the failure is logged once, and a
// snapshot cut short ends its stream (the follower resumes).
import { sql } from 'kysely'
import t from 'tap'
import { addUser, captureLogs, login, startAuth } from '../helper.js'
import { freshPostgresUrl, postgresBaseUrl } from '../store/databases.js'
import { relay } from '../store/relay.js'
import { follow, sidHash } from './follow.js'

const PASSWORD = 'correct horse battery'

t.test('PostgreSQL down, then back', async (t) => {
  const base = postgresBaseUrl(t)
  if (!base) return
  const path = await relay(new URL(await freshPostgresUrl(t, base)))
  const { lines, logger } = captureLogs('info')
  const auth = await startAuth(t, { DATABASE_URL: path.url, REVOCATION_FEED_POLL_MS: '20' }, { logger })
  t.teardown(async () => { path.cut(); await path.close() })
  await addUser(auth, 'alice', PASSWORD)
  const logged = async (msg: string) => { while (!lines.some((line) => line.msg === msg)) await new Promise((resolve) => setTimeout(resolve, 10)) }
  const session = (await login(auth.url, 'alice', PASSWORD)).body
  const connected = await follow(auth.url)
  await connected.snapshot()

  path.cut()
  await logged('revocation feed: polling failed; retrying')
  const refused = await follow(auth.url)
  t.equal(refused.status, 503, 'a new follower while the database is down')
  t.match(await refused.json(), { code: 'AUTH_STORE_UNAVAILABLE' })

  path.restore()
  await logged('revocation feed: the database answers again')
  t.equal(lines.filter((line) => line.msg === 'revocation feed: polling failed; retrying').length, 1, 'the failure logged once, not per poll')
  await fetch(`${auth.url}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refresh_token }) })
  t.equal((await connected.next())[0]!.hash, sidHash(session.access_token as string), 'the follower kept through the outage hears the next revocation')
  connected.close()

  t.test('a snapshot cut short by the database ends its stream', async (t) => {
    const expires = new Date(Date.now() + 3_600_000).toISOString()
    await sql`insert into revocations (hash, expires_at, created_at)
      select 'bulk-' || i, ${expires}, ${expires} from generate_series(1, 100000) as i`.execute(auth.store.db)
    const feed = await follow(auth.url)
    await feed.until(() => true)
    // The service waits for this follower to read before it asks for the next page: cut now.
    path.cut()
    const received = await feed.ended()
    t.ok(received < 100_000, `the stream ended after ${received} events`)
    await logged('revocation feed: snapshot failed; the follower will resume')
    path.restore()
  })
})
