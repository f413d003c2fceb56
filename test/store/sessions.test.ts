// Refresh families and clients on SQLite and on PostgreSQL from one body. On PostgreSQL the two
// racing rotations run in two real transactions on two connections.
import t from 'tap'
import { createDatabase } from '../../services/auth/store/database.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { createClientRepository } from '../../services/auth/store/clients.js'
import { createRefreshTokenRepository } from '../../services/auth/store/refresh-tokens.js'
import { createRevocationRepository } from '../../services/auth/store/revocations.js'
import { createUserRepository } from '../../services/auth/store/users.js'
import { eachDatabase } from './databases.js'

eachDatabase(t, 'refresh families and clients', async (t, url) => {
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  const user = await createUserRepository(db).create({ username: 'alice', passwordHash: 'x' })
  const revocations = createRevocationRepository(db, { accessTokenTtl: 900 })
  const tokens = createRefreshTokenRepository(db, { absoluteTtl: 3600, idleTtl: 600 }, revocations)
  const session = { userId: user.id, clientId: 'first-party-login', scope: 'profile' }

  const first = (await tokens.start(session)).refreshToken
  const rotated = await tokens.rotate(first)
  t.match(rotated, { ok: true, session })
  t.same(await tokens.rotate('never-issued'), { ok: false, reason: 'unknown' })

  const racer = (await tokens.start(session)).refreshToken
  const outcomes = await Promise.all([tokens.rotate(racer), tokens.rotate(racer), tokens.rotate(racer)])
  t.equal(outcomes.filter((outcome) => outcome.ok).length, 1, 'exactly one of three racing rotations wins')
  const winner = outcomes.find((outcome) => outcome.ok) as { refreshToken: string }
  t.same(await tokens.rotate(winner.refreshToken), { ok: false, reason: 'revoked' }, 'and the family is revoked')

  const later = new Date(Date.now() + 601_000)
  const idle = (await tokens.start(session)).refreshToken
  t.same(await tokens.rotate(idle, later), { ok: false, reason: 'expired' }, 'idle lifetime')
  t.type(await tokens.revoke(idle), 'string', 'the user of the session')
  t.equal(await tokens.revoke('never-issued'), undefined)
  t.equal(await tokens.purgeExpired(new Date(Date.now() + 3_601_000)), 3, 'all three families have ended by then')

  const shortSession = createRefreshTokenRepository(db, { absoluteTtl: 100, idleTtl: 600 }, revocations)
  const short = (await shortSession.start(session)).refreshToken
  t.same(await shortSession.rotate(short, new Date(Date.now() + 200_000)), { ok: false, reason: 'expired' },
    'a token never outlives its session, whatever the idle lifetime')

  const clients = createClientRepository(db)
  const { clientSecret } = await clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  t.match(await clients.authenticate('billing', clientSecret), { client_id: 'billing', scopes: 'orders:read', audiences: 'ssot-api' })
  t.notOk('secret_hash' in (await clients.authenticate('billing', clientSecret))!, 'the hash never leaves the repository')
  t.equal(await clients.authenticate('billing', `${clientSecret}x`), undefined)
  t.equal(await clients.authenticate('nobody', clientSecret), undefined)
  const stored = await db.selectFrom('clients').selectAll().execute()
  t.notOk(JSON.stringify(stored).includes(clientSecret), 'no secret in clear')
})
