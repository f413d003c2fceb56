// The login throttling scenarios (throttle-scenarios.ts) on two auth replicas sharing one
// PostgreSQL database and one Redis, behind one trusted proxy: each client's requests alternate
// between the replicas, so every count and every device cookie must hold across both.
import t from 'tap'
import { addUser, makeKeysDir, startAuth } from '../helper.js'
import { testServices } from '../services.js'
import { freshPostgresUrl } from '../store/databases.js'
import { OWNER_PASSWORD, throttleScenarios } from './throttle-scenarios.js'

t.test('the scenarios, on two replicas over PostgreSQL and Redis', async (t) => {
  const services = testServices(t, 'postgres', 'redis')
  if (!services) return
  const shared = {
    ISSUER_URL: 'https://auth.example.test',
    DATABASE_URL: await freshPostgresUrl(t, services.postgres),
    REDIS_URL: services.redis,
    KEYS_DIR: await makeKeysDir(t),
    TRUST_PROXY: '1',
    COOKIE_SECRET: 'the secret every replica shares: 32 characters at least'
  }
  const replicas = [await startAuth(t, shared), await startAuth(t, shared)]
  await throttleScenarios(t, replicas, (username) => addUser(replicas[0]!, username, OWNER_PASSWORD))
})
