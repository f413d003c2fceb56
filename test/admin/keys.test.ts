// Retiring a key over the admin API, for both key backends: a retired key leaves the JWKS and the
// key list at once (and every replica at its next reload), with one audit record; the active and
// next keys, an unknown kid and a stale sign-in are refused. And automatic rotation is audited.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { openKeyRing } from '../../services/auth/key-ring.js'
import { startAuth, testDir, type Env } from '../helper.js'
import { waitFor } from '../issuer/helpers.js'
import { adminSetUp, adminToken } from './helpers.js'

type Key = { kid: string, state: string }

const jwksKids = async (url: string) =>
  ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Key[] }).keys.map((key) => key.kid).sort()

/** A ring in a database of its own (KEYS_BACKEND=database), created before the service starts. */
async function databaseBackend (t: Test): Promise<Env> {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'keys.sqlite')}`, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
  const ring = await openKeyRing(authAppOptions(loadAuthEnv(env)))
  await ring.ensure()
  await ring.close()
  return env
}

const backends: Array<[string, (t: Test) => Promise<Env>]> = [['files', async () => ({})], ['database', databaseBackend]]

for (const [backend, envOf] of backends) {
  t.test(`${backend}: a retired key is removed now, once, with one audit record; active, next and unknown kids are refused`, async (t) => {
    const { auth, call } = await adminSetUp(t, startAuth, { KEYS_RELOAD_INTERVAL: '0', ...await envOf(t) })
    const rotation = (await call('POST', '/api/keys/rotate', { force: true })).body as { active: string, retired: string, next: string }
    t.same(await jwksKids(auth.url), [rotation.active, rotation.retired, rotation.next].sort(), 'the retired key is published')

    const retired = await call('POST', `/api/keys/${rotation.retired}/retire`)
    t.equal(retired.status, 200)
    t.match(retired.body, { kid: rotation.retired, state: 'retired', retiredAt: String })
    t.same(await jwksKids(auth.url), [rotation.active, rotation.next].sort(), 'gone from the JWKS')
    t.same((await call('GET', '/api/keys')).body.items.map((key: Key) => key.kid).sort(), [rotation.active, rotation.next].sort(), 'and from the key list')
    const events = (await call('GET', '/api/audit?action=keys.retire')).body.items
    t.match(events, [{ actor: 'root', action: 'keys.retire', target: rotation.retired, outcome: 'success', detail: { retiredAt: String } }])
    t.equal(events.length, 1, 'one audit record')

    const again = await call('POST', `/api/keys/${rotation.retired}/retire`)
    t.equal(again.status, 404)
    t.equal(again.body.code, 'ISSUER_KEY_NOT_FOUND')
    const active = await call('POST', `/api/keys/${rotation.active}/retire`)
    t.equal(active.status, 409)
    t.equal(active.body.code, 'ISSUER_KEY_NOT_RETIRED')
    t.match(active.body.message, /is active, not retired: rotate first/)
    const next = await call('POST', `/api/keys/${rotation.next}/retire`)
    t.equal(next.status, 409)
    t.equal(next.body.code, 'ISSUER_KEY_NOT_RETIRED')
    t.equal((await call('GET', '/api/audit?action=keys.retire')).body.items.length, 1, 'a refusal records nothing')
    t.same(await jwksKids(auth.url), [rotation.active, rotation.next].sort(), 'and changes nothing')
  })
}

t.test('database: every replica drops the retired key at its next reload', async (t) => {
  const env = { KEYS_RELOAD_INTERVAL: '0', ...await databaseBackend(t) }
  const { auth: replicaA, call } = await adminSetUp(t, startAuth, env)
  const replicaB = await startAuth(t, env)
  const { retired } = (await call('POST', '/api/keys/rotate', { force: true })).body as { retired: string }
  t.equal(await replicaB.issuer.reloadKeys(), true)
  t.ok((await jwksKids(replicaB.url)).includes(retired))
  t.equal((await call('POST', `/api/keys/${retired}/retire`)).status, 200)
  t.notOk((await jwksKids(replicaA.url)).includes(retired), 'gone at A at once')
  t.equal(await replicaB.issuer.reloadKeys(), true)
  t.notOk((await jwksKids(replicaB.url)).includes(retired), 'gone at B after its reload')
})

t.test('retiring needs a recent sign-in', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth, { KEYS_RELOAD_INTERVAL: '0', ADMIN_MAX_AUTH_AGE: '60s' })
  const { retired } = (await call('POST', '/api/keys/rotate', { force: true })).body as { retired: string }
  const stale = await adminToken(auth, 'root', { signedInAgo: 61 })
  const refused = await call('POST', `/api/keys/${retired}/retire`, undefined, stale)
  t.equal(refused.status, 401)
  t.equal(refused.body.code, 'ADMIN_REAUTH_REQUIRED')
  t.ok((await jwksKids(auth.url)).includes(retired), 'still published')
  const readOnly = await adminToken(auth, 'root', { scope: 'admin:read' })
  t.equal((await call('POST', `/api/keys/${retired}/retire`, undefined, readOnly)).status, 403, 'admin:read is not enough')
})

t.test('automatic rotation is recorded in the audit trail, by system', async (t) => {
  const auth = await startAuth(t, { JWKS_MAX_AGE: '0s', KEYS_RELOAD_INTERVAL: '1s', KEY_ROTATION_INTERVAL: '1s' })
  const first = auth.issuer.keyRing.activeKey().kid
  const rotations = async () => auth.store.audit.list({ action: 'keys.rotate', limit: 10 })
  await waitFor(async () => (await rotations()).length > 0, 10_000)
  const [event] = await rotations()
  t.match(event, { actor: 'system', ip: 'local', action: 'keys.rotate', outcome: 'success', detail: { retired: first, force: false } })
  t.equal(event!.target, event!.detail.active)
})
