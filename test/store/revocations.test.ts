// The revocation log on SQLite and PostgreSQL: digests, ids in commit order and never reused,
// one event per revoked thing, nothing written by a failed transaction, expiry and purge.
import { createHash, randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { createStore } from '../../services/auth/store/index.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { revocationHash } from '../../plugins/shared/revocation-hash.js'
import { eachDatabase, freshPostgresUrl, postgresBaseUrl } from './databases.js'

const lifetimes = { accessTokenTtl: 900, refreshTokens: { absoluteTtl: 3600, idleTtl: 600 } }
const seconds = (date = new Date()) => Math.floor(date.getTime() / 1000)

// The feed's wire format, as the README documents it for other verifiers: written out here, apart
// from the one function the auth service and our verifier share.
t.test('a revocation digest is the base64url SHA-256 of "sid:<sid>" or "jti:<jti>"', async (t) => {
  for (const [claim, value] of [['sid', 'f3b0c442-98fc-4c1c-9a3e-1c2b2f0b7f11'], ['jti', 'jti-é-1']] as const) {
    t.equal(revocationHash(claim, value), createHash('sha256').update(`${claim}:${value}`, 'utf8').digest('base64url'), claim)
  }
})

async function openStore (t: Test, url: string) {
  const store = createStore({ url, ...lifetimes })
  t.teardown(() => store.db.destroy())
  await migrateToLatest(store.db)
  return store
}

t.test('the digest: base64url SHA-256 of "sid:<sid>" or "jti:<jti>" (vectors for verifiers)', async (t) => {
  t.equal(revocationHash('sid', '3f1c2e0a-5b7d-4c8e-9a6f-2d4b8e1c7a90'), 'UX9gpml8oBBEqfpDvPiPvT8x1HTLm8v52bk3Lfr2JhU')
  t.equal(revocationHash('jti', 'abc'), 'ukXsFfuSAmDerP7QiegY4CSRpyHkzuMPvI8GdrfGDvI')
})

eachDatabase(t, 'the revocation log', async (t, url) => {
  const { revocations } = await openStore(t, url)
  t.equal(await revocations.newest(), 0, 'empty')
  let wakes = 0
  revocations.onCommitted(() => wakes++)
  const now = new Date()
  const exp = seconds() + 300

  await revocations.transaction((trx) => revocations.revokeSessions(trx, ['s1', 's2'], now))
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'j1', exp))
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'j1', exp))
  await revocations.transaction(async () => 'nothing revoked')
  t.equal(wakes, 3, 'each commit that revoked wakes the local feed')
  await t.rejects(revocations.transaction(async (trx) => {
    await revocations.revokeToken(trx, 'j2', exp)
    throw new Error('the state change failed')
  }), /the state change failed/)
  t.equal(wakes, 3, 'a rolled back transaction wakes nobody')

  const events = await revocations.after(0, 10)
  t.same(events.map((event) => event.hash), [revocationHash('sid', 's1'), revocationHash('sid', 's2'), revocationHash('jti', 'j1')],
    'one event per revoked thing, none from the failed transaction')
  t.ok(events[0]!.id < events[1]!.id && events[1]!.id < events[2]!.id)
  t.equal(events[0]!.exp, Math.ceil(now.getTime() / 1000) + 900 + 60, 'a session: now + ACCESS_TOKEN_TTL + 60 s')
  t.equal(events[2]!.exp, exp, 'a token: its own exp')
  t.same(await revocations.after(events[0]!.id, 1), [events[1]], 'paged by id')
  t.same([await revocations.isRevoked({ jti: 'j1' }), await revocations.isRevoked({ jti: 'j9' }), await revocations.isRevoked({ jti: 'j9', sid: 's2' })],
    [true, false, true], 'isRevoked: by jti, or by sid when the token has one')

  const past = seconds() - 10
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'expired-1', past))
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'expired-newest', past))
  const newest = await revocations.newest()
  t.same((await revocations.live(0, newest, 10)).map((event) => event.id), events.map((event) => event.id), 'live: the expired are left out')
  t.same((await revocations.live(events[0]!.id, events[1]!.id, 10)).map((event) => event.id), [events[1]!.id], 'within (after, upTo]')

  t.equal(await revocations.purgeExpired(), 1, 'purged: the expired one, not the newest row')
  t.equal(await revocations.newest(), newest, 'which keeps the high-water mark')
  t.equal(await revocations.purgeExpired(new Date(Date.now() + 3_600_000)), 3, 'an hour later, all but the newest')
  await revocations.transaction((trx) => revocations.revokeToken(trx, 'later', exp))
  t.ok((await revocations.after(0, 10)).at(-1)!.id > newest, 'ids are never reused')
})

t.test('PostgreSQL: a revocation waits for the one before it to commit, so ids follow commit order', async (t) => {
  const base = postgresBaseUrl(t)
  if (!base) return
  const url = new URL(await freshPostgresUrl(t, base))
  const replicaA = await openStore(t, url.toString())
  const tag = `revocation-order-${randomBytes(4).toString('hex')}`
  url.searchParams.set('application_name', tag)
  const replicaB = await openStore(t, url.toString())
  const exp = seconds() + 300

  let inserted!: () => void
  let commit!: () => void
  const insertedByA = new Promise<void>((resolve) => { inserted = resolve })
  const a = replicaA.revocations.transaction(async (trx) => {
    await replicaA.revocations.revokeToken(trx, 'a', exp)
    inserted()
    await new Promise<void>((resolve) => { commit = resolve })
  })
  await insertedByA
  let bCommitted = false
  const b = replicaB.revocations.transaction((trx) => replicaB.revocations.revokeToken(trx, 'b', exp)).then(() => { bCommitted = true })
  const waitingOnLock = async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
    where application_name = ${tag} and wait_event_type = 'Lock'`.execute(replicaA.db)).rows[0]!.n > 0
  const committedAlready = () => bCommitted
  // A stays open until PostgreSQL shows B waiting on a lock (or B has committed: the bug).
  while (!committedAlready() && !await waitingOnLock());
  t.notOk(bCommitted, 'B waits while A has not committed')
  commit()
  await Promise.all([a, b])
  const [first, second] = await replicaA.revocations.after(0, 10)
  t.same([first!.hash, second!.hash], [revocationHash('jti', 'a'), revocationHash('jti', 'b')], 'A, then B: the first to commit has the lower id')
})
