// The key ring in the database, on SQLite and on PostgreSQL: sealed at rest, refused when the key,
// a kid or a byte does not match, rotated by the shared rules (and a retired key removed early),
// and rotated exactly once when two replicas (two connection pools) race.
import { createPrivateKey, randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { ensureKeyFiles, readManifest } from '../../plugins/issuer/key-files.js'
import { createFileKeyStore } from '../../plugins/issuer/key-store.js'
import { keyTiming } from '../../plugins/issuer/key-timing.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { parseEncryptionKey, sealPrivateKey } from '../../services/auth/store/key-encryption.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { createDatabaseKeyStore } from '../../services/auth/store/signing-keys.js'
import { testDir } from '../helper.js'
import { pemOf } from '../issuer/helpers.js'
import { eachDatabase, type DatabaseKind } from './databases.js'

const timing = keyTiming({ accessTokenTtl: 900, jwksMaxAge: 300, reloadInterval: 5 })
const later = (seconds: number) => new Date(Date.now() + seconds * 1000)
const newEncryptionKey = () => parseEncryptionKey(randomBytes(32).toString('base64'))

async function openStore (t: Test, url: string, kind: DatabaseKind, encryptionKey = newEncryptionKey()) {
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  return Object.assign(createDatabaseKeyStore(db, { encryptionKey, postgres: kind === 'postgres' }), { db, encryptionKey })
}

const rowsOf = (store: Awaited<ReturnType<typeof openStore>>) => store.db.selectFrom('signing_keys').selectAll().execute()

eachDatabase(t, 'sealed at rest, and only the right key opens it', async (t, url, kind) => {
  const store = await openStore(t, url, kind)
  await t.rejects(store.load(), { code: 'ISSUER_KEY_RING_MISSING', message: /the database/ })
  t.equal((await store.ensure()).created, true)
  t.equal((await store.ensure()).created, false, 'ensure never replaces a ring')
  const { keys, version } = await store.load()
  t.equal(version, await store.version())
  t.same(keys.map((key) => key.state).sort(), ['active', 'next'])

  for (const row of await rowsOf(store)) {
    const key = keys.find((k) => k.kid === row.kid)!
    const der = createPrivateKey(key.privatePem).export({ type: 'pkcs8', format: 'der' })
    const stored = JSON.stringify(row)
    t.notMatch(stored, /PRIVATE KEY|-----/, 'no PEM armour in the row')
    t.notOk(stored.includes(key.privatePem.split('\n')[5]!), 'no line of the PEM body')
    const bytes = Buffer.concat(row.private_key_sealed.split('.').slice(1).map((part) => Buffer.from(part, 'base64url')))
    t.equal(bytes.indexOf(der.subarray(100, 132)), -1, 'no 32-byte run of the key in the stored bytes')
    t.match(row.private_key_sealed, /^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/, 'format tag, 12-byte IV, 16-byte tag, ciphertext')
  }

  const wrong = createDatabaseKeyStore(store.db, { encryptionKey: newEncryptionKey(), postgres: kind === 'postgres' })
  await t.rejects(wrong.load(), { code: 'AUTH_SIGNING_KEY_UNREADABLE', message: /KEYS_ENCRYPTION_KEY is not the key/ })
  await t.rejects(wrong.rotate({ ...timing, force: true }), { code: 'AUTH_SIGNING_KEY_UNREADABLE' }, 'nor is it rotated')
})

eachDatabase(t, 'a tampered row is refused', async (t, url, kind) => {
  const store = await openStore(t, url, kind)
  await store.ensure()
  const [a, b] = await rowsOf(store) as [Awaited<ReturnType<typeof rowsOf>>[0], Awaited<ReturnType<typeof rowsOf>>[0]]
  const setSealed = (kid: string, sealed: string) =>
    store.db.updateTable('signing_keys').set({ private_key_sealed: sealed }).where('kid', '=', kid).execute()
  const refused = async (what: string, code = 'AUTH_SIGNING_KEY_UNREADABLE') => {
    await t.rejects(store.load(), { code }, what)
  }

  await setSealed(a.kid, b.private_key_sealed)
  await refused('a sealed key copied into another row (the kid is authenticated)')
  const flipped = Buffer.from(a.private_key_sealed.split('.')[3]!, 'base64url')
  flipped[10]! ^= 1
  await setSealed(a.kid, a.private_key_sealed.replace(/[^.]+$/, flipped.toString('base64url')))
  await refused('one flipped ciphertext bit')
  await setSealed(a.kid, 'v1.garbage')
  await refused('a malformed value')
  await setSealed(a.kid, sealPrivateKey(store.encryptionKey, a.kid, pemOf('rsa')))
  await refused('another key sealed under this kid by someone holding the key', 'AUTH_KEY_RING_INVALID')
  await setSealed(a.kid, a.private_key_sealed)
  t.equal((await store.load()).keys.length, 2, 'restored, it loads')

  await store.db.updateTable('signing_keys').set({ created_at: 'yesterday' }).where('kid', '=', a.kid).execute()
  await refused('a row that is not a key record', 'AUTH_KEY_RING_INVALID')
  await store.db.updateTable('signing_keys').set({ created_at: a.created_at, state: 'active' }).execute()
  await t.rejects(store.load(), { code: 'AUTH_KEY_RING_INVALID', message: /2 active keys/ })
})

eachDatabase(t, 'rotation follows the shared rules; racing replicas rotate exactly once', async (t, url, kind) => {
  const encryptionKey = newEncryptionKey()
  const a = await openStore(t, url, kind, encryptionKey)
  const b = await openStore(t, url, kind, encryptionKey)
  await a.ensure()
  // A ring imported from hand-made files may have no activatedAt: the active key ages from createdAt.
  await a.db.updateTable('signing_keys').set({ activated_at: null }).where('state', '=', 'active').execute()
  const before = await a.version()
  await t.rejects(a.rotate(timing), { code: 'ISSUER_NEXT_KEY_TOO_YOUNG' })
  t.equal(await a.version(), before, 'a refused rotation writes nothing')

  const now = later(timing.minNextAge)
  const results = await Promise.allSettled([a.rotate({ ...timing, now }), b.rotate({ ...timing, now })])
  const won = results.filter((result) => result.status === 'fulfilled')
  const lost = results.filter((result) => result.status === 'rejected')
  t.equal(won.length, 1, 'exactly one replica rotated')
  t.match(lost[0]?.reason, { code: 'ISSUER_NEXT_KEY_TOO_YOUNG' }, 'the other found the new next key too young')
  const { keys } = await b.load()
  t.same(keys.map((key) => key.state).sort(), ['active', 'next', 'retired'])

  const pruning = await b.rotate({ ...timing, now: later(timing.minNextAge + timing.retireWindow + 1) })
  t.equal(pruning.pruned.length, 1, 'the retired key past its window is removed')
  t.same((await rowsOf(a)).map((row) => row.state).sort(), ['active', 'next', 'retired'])
  const forced = await a.rotate({ ...timing, force: true })
  t.equal((await a.load()).keys.find((key) => key.state === 'active')?.kid, forced.active.kid, 'force skips the age rule')
})

eachDatabase(t, 'importKeys: a PEM ring goes in once; the same ring again is a no-op; another is refused', async (t, url, kind) => {
  const store = await openStore(t, url, kind)
  const dir = `${testDir(t)}/keys`
  await ensureKeyFiles(dir)
  const files = await createFileKeyStore(dir).load()
  t.same(await store.importKeys(files.keys), { imported: true })
  t.same(await store.importKeys(files.keys), { imported: false })
  const loaded = await store.load()
  t.same(loaded.keys.map(({ kid, state, privatePem }) => ({ kid, state, privatePem })).sort((x, y) => x.kid < y.kid ? -1 : 1),
    files.keys.map(({ kid, state, privatePem }) => ({ kid, state, privatePem })).sort((x, y) => x.kid < y.kid ? -1 : 1))
  await store.rotate({ ...timing, force: true })
  await t.rejects(store.importKeys(files.keys), { code: 'AUTH_KEY_RING_CONFLICT' })
  t.equal((await readManifest(dir)).length, 2, 'the PEM ring is left as it was')
})

eachDatabase(t, 'retire: a retired key leaves the database; the active, next and unknown kids are refused', async (t, url, kind) => {
  const store = await openStore(t, url, kind)
  await store.ensure()
  const { active, retired, next } = await store.rotate({ ...timing, force: true })
  const removed = await store.retire(retired.kid)
  t.match(removed, { kid: retired.kid, state: 'retired', retiredAt: retired.retiredAt })
  t.same((await rowsOf(store)).map((row) => row.kid).sort(), [active.kid, next.kid].sort())
  t.same((await store.load()).keys.map((key) => key.kid).sort(), [active.kid, next.kid].sort(), 'the ring still loads')
  await t.rejects(store.retire(retired.kid), { code: 'ISSUER_KEY_NOT_FOUND' })
  await t.rejects(store.retire(active.kid), { code: 'ISSUER_KEY_NOT_RETIRED', message: /is active/ })
  await t.rejects(store.retire(next.kid), { code: 'ISSUER_KEY_NOT_RETIRED', message: /is next/ })
  t.equal((await rowsOf(store)).length, 2, 'a refusal deletes nothing')
})
