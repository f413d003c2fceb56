// Several replicas, one source of truth: two auth replicas on one PostgreSQL database and one
// Redis, two resource services each fetching the JWKS from a different replica, all over real
// HTTP on loopback. What one replica does, the other sees.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import { addUser, login, makeKeysDir, startAuth, startResource } from '../helper.js'
import { testServices } from '../services.js'
import { freshPostgresUrl } from '../store/databases.js'

const ISSUER = 'https://auth.example.test'

async function postJson (url: string, body: unknown) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as Record<string, string> }
}

t.test('two auth replicas and two resource services share one truth', async (t) => {
  const services = testServices(t, 'postgres', 'redis')
  if (!services) return
  const { postgres: baseUrl, redis } = services
  // Behind a load balancer every replica signs as the same issuer, from the same key ring.
  const shared = {
    ISSUER_URL: ISSUER,
    DATABASE_URL: await freshPostgresUrl(t, baseUrl),
    REDIS_URL: redis,
    KEYS_DIR: await makeKeysDir(t),
    KEYS_RELOAD_INTERVAL: '1',
    JWKS_MAX_AGE: '1',
    LOGIN_MAX_PER_USERNAME: '3'
  }
  const replicaA = await startAuth(t, shared)
  const replicaB = await startAuth(t, shared)
  const resourceA = await startResource(t, ISSUER, { JWKS_URL: `${replicaA.url}/.well-known/jwks.json`, JWKS_COOLDOWN_MS: '200' })
  const resourceB = await startResource(t, ISSUER, { JWKS_URL: `${replicaB.url}/.well-known/jwks.json`, JWKS_COOLDOWN_MS: '200' })
  await addUser(replicaA, 'alice', 'correct horse battery')

  t.test('a session opened at A refreshes at B; its tokens verify everywhere', async (t) => {
    const loggedIn = await login(replicaA.url, 'alice', 'correct horse battery')
    t.equal(loggedIn.status, 200)
    const refreshed = await postJson(`${replicaB.url}/auth/refresh`, { refresh_token: loggedIn.body.refresh_token })
    t.equal(refreshed.status, 200)
    for (const resource of [resourceA, resourceB]) {
      for (const token of [loggedIn.body.access_token, refreshed.body.access_token]) {
        const response = await fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${token as string}` } })
        t.equal(response.status, 200)
      }
    }

    t.test('replaying the used token at the other replica still revokes the family', async (t) => {
      const replay = await postJson(`${replicaA.url}/auth/refresh`, { refresh_token: loggedIn.body.refresh_token })
      t.equal(replay.status, 401)
      const newest = await postJson(`${replicaB.url}/auth/refresh`, { refresh_token: refreshed.body.refresh_token })
      t.equal(newest.status, 401, 'the newest token of the family is dead at B too')
    })
  })

  t.test('the per-username login limit counts attempts at both replicas', async (t) => {
    // A fresh name: Redis outlives this test, and its counters last a minute.
    const username = `bob-${randomUUID()}`
    for (const replica of [replicaA, replicaB, replicaA]) t.equal((await login(replica.url, username, 'wrong password')).status, 401)
    const limited = await login(replicaB.url, username, 'wrong password')
    t.equal(limited.status, 429)
    t.equal(limited.body.code, 'AUTH_RATE_LIMITED')
  })

  t.test('a rotation made from A is served by B within one polling interval', async (t) => {
    const before = replicaA.issuer.keyRing.activeKey().kid
    const { active } = await rotateKeyFiles(shared.KEYS_DIR, { ...replicaA.issuer.keyTiming, force: true })
    t.not(active.kid, before)
    const deadline = Date.now() + 5000
    let served: string[] = []
    while (Date.now() < deadline) {
      served = await Promise.all([replicaA, replicaB].map(async (replica) => (await fetch(`${replica.url}/.well-known/jwks.json`)).text()))
      if (served[0] === served[1] && replicaB.issuer.keyRing.activeKey().kid === active.kid) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(served[0], served[1], 'both replicas publish the same JWKS')
    t.equal(replicaB.issuer.keyRing.activeKey().kid, active.kid, 'and B signs with the new key')
  })
})
