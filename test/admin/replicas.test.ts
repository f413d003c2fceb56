// Two auth replicas on one PostgreSQL database: the admin API of either one sees and changes the
// same users, and each one's changes reach the other (sign-ins, revocations, the audit trail).
import t from 'tap'
import { addUser, login, makeKeysDir, startAuth } from '../helper.js'
import { testServices } from '../services.js'
import { freshPostgresUrl } from '../store/databases.js'
import { ADMIN_PASSWORD, adminToken, startAdmin } from './helpers.js'

const ISSUER = 'https://auth.example.test'

t.test('the admin API works on any replica', async (t) => {
  const services = testServices(t, 'postgres')
  if (!services) return
  const shared = { ISSUER_URL: ISSUER, DATABASE_URL: await freshPostgresUrl(t, services.postgres), KEYS_DIR: await makeKeysDir(t), REVOCATION_FEED_POLL_MS: '50' }
  const replicaA = await startAuth(t, shared)
  const replicaB = await startAuth(t, shared)
  const adminA = await startAdmin(t, replicaA, shared)
  const adminB = await startAdmin(t, replicaB, shared)
  await addUser(replicaA, 'root', ADMIN_PASSWORD, ['admin'])
  // Signed by A; B's admin API trusts it (one issuer, one key ring).
  const token = await adminToken(replicaA, 'root')
  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) })
    })
    return { status: response.status, body: response.status === 204 ? undefined : await response.json() }
  }

  t.equal((await call(adminA.url, 'POST', '/api/users', { username: 'zed', password: 'zed password 12', temporary: false })).status, 201, 'created at A')
  t.match((await call(adminB.url, 'GET', '/api/users?search=z')).body.items, [{ username: 'zed' }], 'listed at B')
  const session = await login(replicaA.url, 'zed', 'zed password 12')
  t.equal(session.status, 200, 'zed signs in at A')
  t.equal((await call(adminB.url, 'GET', '/api/users/zed/sessions')).body.items.length, 1, 'the session is seen at B')

  t.same((await call(adminB.url, 'POST', '/api/users/zed/disable')).body, { sessions: 1 }, 'disabled at B')
  t.equal((await login(replicaA.url, 'zed', 'zed password 12')).status, 401, 'refused at A')
  t.match((await call(adminA.url, 'GET', '/api/audit?target=zed&actor=root')).body.items.map((event: { action: string }) => event.action), ['user.disable', 'user.create'], 'one trail')
  const recent = (await call(adminA.url, 'GET', '/api/revocations?limit=1')).body.items
  t.equal(recent.length, 1, 'the revocation is in the shared log')
})
