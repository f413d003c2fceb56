// What the user and client CLIs do, on SQLite and PostgreSQL: each change and the revocations it
// writes in the same transaction (the CLIs themselves are run in test/auth/admin-cli.test.ts).
import t from 'tap'
import { createStore } from '../../services/auth/store/index.js'
import { sql } from 'kysely'
import { createDatabase } from '../../services/auth/store/database.js'
import { migrateTo, migrateToLatest } from '../../services/auth/store/migrations.js'
import { revocationHash } from '../../plugins/shared/revocation-hash.js'
import { eachDatabase } from './databases.js'

eachDatabase(t, 'user and client administration', async (t, url) => {
  const store = createStore({ url, accessTokenTtl: 900, refreshTokens: { absoluteTtl: 3600, idleTtl: 600 } })
  t.teardown(() => store.db.destroy())
  await migrateToLatest(store.db)
  const published = async () => (await store.revocations.after(0, 100)).map((event) => event.hash)
  const sid = (value: string) => revocationHash('sid', value)

  const alice = await store.users.create({ username: 'alice', passwordHash: 'x' })
  const session = { userId: alice.id, clientId: 'first-party-login', scope: 'profile' }
  const [one, two] = [await store.refreshTokens.start(session), await store.refreshTokens.start(session)]
  t.same(await store.userAdmin.revokeSessions('ALICE'), { sessions: 2 }, 'by normalised username')
  t.same((await published()).sort(), [sid(one.sessionId), sid(two.sessionId)].sort())
  t.same(await store.userAdmin.revokeSessions('alice'), { sessions: 0 }, 'nothing left to revoke, nothing published')
  t.equal((await published()).length, 2)
  const three = await store.refreshTokens.start(session)
  t.same(await store.userAdmin.disable('alice'), { sessions: 1 })
  t.equal((await store.users.findByUsername('alice'))?.disabled, 1)
  t.same((await published()).at(-1), sid(three.sessionId))
  t.same(await store.userAdmin.enable('alice'), { sessions: 0 })
  t.equal((await store.users.findByUsername('alice'))?.disabled, 0)
  for (const change of ['revokeSessions', 'disable', 'enable'] as const) t.equal(await store.userAdmin[change]('nobody'), undefined, change)

  const { clientSecret } = await store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const generation = async () => (await store.db.selectFrom('clients').select('generation').where('client_id', '=', 'billing').executeTakeFirstOrThrow()).generation
  const first = await generation()
  t.match(first, /^[0-9a-f-]{36}$/, 'a random generation')
  const rotated = await store.clientAdmin.rotateSecret('billing')
  t.not(rotated!.clientSecret, clientSecret)
  t.equal(await store.clients.authenticate('billing', clientSecret), undefined, 'the old secret is refused')
  t.match(await store.clients.authenticate('billing', rotated!.clientSecret), { client_id: 'billing' })
  const second = await generation()
  t.not(second, first)
  t.equal((await published()).at(-1), sid(first), 'the old generation is revoked')

  t.equal(await store.clientAdmin.disable('billing'), 'done')
  t.equal(await store.clients.authenticate('billing', rotated!.clientSecret), undefined, 'a disabled client is refused')
  t.equal((await published()).at(-1), sid(second))
  t.equal(await store.clientAdmin.disable('billing'), 'unchanged')
  t.equal(await store.clientAdmin.enable('billing'), 'done')
  t.equal(await store.clientAdmin.enable('billing'), 'unchanged')
  const third = await generation()
  t.not(third, second, 'enabled under a new generation')
  t.equal(await store.clientAdmin.remove('billing'), true)
  t.equal((await published()).at(-1), sid(third))
  t.equal(await store.clientAdmin.remove('billing'), false)
  t.equal(await store.clientAdmin.disable('billing'), 'unknown')
  t.equal(await store.clientAdmin.enable('billing'), 'unknown')
  t.equal(await store.clientAdmin.rotateSecret('billing'), undefined)
  t.notOk(JSON.stringify(await store.db.selectFrom('revocations').selectAll().execute()).includes('billing'), 'no client id in the feed')
})

eachDatabase(t, 'clients created before revocations get a random generation each on upgrade', async (t, url) => {
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateTo(db, '0003_signing_keys')
  for (const id of ['billing', 'reports']) {
    await sql`insert into clients (client_id, name, secret_hash, scopes, audiences, created_at)
      values (${id}, ${id}, 'x', 'orders:read', 'ssot-api', '2026-01-01T00:00:00.000Z')`.execute(db)
  }
  await migrateToLatest(db)
  const rows = await db.selectFrom('clients').select(['client_id', 'generation', 'disabled']).orderBy('client_id').execute()
  t.match(rows, [{ client_id: 'billing', disabled: 0 }, { client_id: 'reports', disabled: 0 }])
  for (const row of rows) t.match(row.generation, /^[0-9a-f-]{36}$/, `${row.client_id}: a random UUID`)
  t.not(rows[0]!.generation, rows[1]!.generation)
})
