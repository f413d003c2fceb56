// Two auth replicas on one database ring (KEYS_BACKEND=database), over real HTTP: a rotation
// started on A is served by B's JWKS within one polling interval, B's tokens verify at a resource
// service, and rotating on both at once rotates exactly once.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createDatabase } from '../../services/auth/store/database.js'
import { parseEncryptionKey } from '../../services/auth/store/key-encryption.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { createDatabaseKeyStore } from '../../services/auth/store/signing-keys.js'
import { startAuth, startResource } from '../helper.js'
import { decodeJwt, waitFor } from '../issuer/helpers.js'
import { eachDatabase } from '../store/databases.js'

const POLL_SECONDS = 1
const subject = { sub: 'user-1', client_id: 'replica-test', scope: 'profile' }
type Replica = Awaited<ReturnType<typeof startAuth>>

const jwksOf = async (replica: Replica) => (await fetch(`${replica.url}/.well-known/jwks.json`)).text()
const stateCount = (rows: Array<{ state: string }>) => rows.map((row) => row.state).sort().join(' ')

/** Waits until the ring's next key may be promoted (it has been published for minNextAge). */
async function nextKeyOldEnough (replica: Replica): Promise<void> {
  const next = replica.issuer.keyRing.keys().find((key) => key.state === 'next')!
  await waitFor(() => Date.now() >= Date.parse(next.createdAt) + replica.issuer.keyTiming.minNextAge * 1000 + 50, 10_000)
}

eachDatabase(t, 'two replicas share one ring', async (t, url, kind) => {
  const keyText = randomBytes(32).toString('base64')
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  await createDatabaseKeyStore(db, { encryptionKey: parseEncryptionKey(keyText), postgres: kind === 'postgres' }).ensure()
  // JWKS_MAX_AGE=0: a next key may sign after one poll, so the test waits seconds, not minutes.
  const env = {
    DATABASE_URL: url, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: keyText, JWKS_MAX_AGE: '0', KEYS_RELOAD_INTERVAL: `${POLL_SECONDS}`
  }
  const a = await startAuth(t, env)
  const b = await startAuth(t, env)
  t.equal(await jwksOf(b), await jwksOf(a), 'both replicas start with the same JWKS')

  await nextKeyOldEnough(a)
  const { active } = await a.issuer.rotateKeys()
  const rotatedAt = Date.now()
  t.equal(decodeJwt((await a.issuer.signAccessToken(subject)).accessToken).header.kid, active.kid, 'A signs with the new key at once')
  const served = await jwksOf(a)
  // One poll, plus slack for a busy machine (the assertion is that polling carries it, not a benchmark).
  await waitFor(async () => await jwksOf(b) === served, POLL_SECONDS * 1000 + 1000)
  t.comment(`B served A's rotation after ${Date.now() - rotatedAt} ms (poll: ${POLL_SECONDS * 1000} ms)`)
  t.equal(decodeJwt((await b.issuer.signAccessToken(subject)).accessToken).header.kid, active.kid, 'B signs with it too')

  const resource = await startResource(t, b.url)
  const status = (await fetch(`${resource.url}/resource/protected`, {
    headers: { authorization: `Bearer ${(await b.issuer.signAccessToken({ ...subject, username: 'alice' })).accessToken}` }
  })).status
  t.equal(status, 200, "a token from B verifies against B's JWKS")

  await nextKeyOldEnough(a)
  const results = await Promise.allSettled([a.issuer.rotateKeys(), b.issuer.rotateKeys()])
  t.equal(results.filter((result) => result.status === 'fulfilled').length, 1, 'rotating on both at once rotates exactly once')
  t.match(results.find((result) => result.status === 'rejected'), { reason: { code: 'ISSUER_NEXT_KEY_TOO_YOUNG' } })
  t.equal(stateCount(await db.selectFrom('signing_keys').select('state').execute()), 'active next retired retired')
  await waitFor(async () => await jwksOf(a) === await jwksOf(b), POLL_SECONDS * 1000 + 1000)
  t.pass('and both replicas serve the same JWKS')
})

eachDatabase(t, 'automatic rotation on two replicas: one rotation per window, never two', async (t, url, kind) => {
  const keyText = randomBytes(32).toString('base64')
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  await createDatabaseKeyStore(db, { encryptionKey: parseEncryptionKey(keyText), postgres: kind === 'postgres' }).ensure()
  const env = {
    DATABASE_URL: url, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: keyText, JWKS_MAX_AGE: '0', KEYS_RELOAD_INTERVAL: '1', KEY_ROTATION_INTERVAL: '1'
  }
  const a = await startAuth(t, env)
  const b = await startAuth(t, env)
  const retired = async () => (await db.selectFrom('signing_keys').select('state').where('state', '=', 'retired').execute()).length
  await waitFor(async () => await retired() >= 2, 10_000)
  await Promise.all([a.close(), b.close()])
  const activations = (await db.selectFrom('signing_keys').select('activated_at').where('state', '!=', 'next').execute())
    .map((row) => Date.parse(row.activated_at!)).sort((x, y) => x - y)
  const gaps = activations.slice(1).map((at, i) => at - activations[i]!)
  t.comment(`${gaps.length} rotations by two schedulers, gaps ${gaps.join(', ')} ms`)
  t.ok(gaps.every((gap) => gap >= a.issuer.keyTiming.minNextAge * 1000), 'no two rotations within minNextAge of each other')
})
