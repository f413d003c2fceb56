// Each token belongs to one client, over real HTTP: a refresh token works only for the client it
// was issued to (RFC 6749 §6), /oauth/revoke revokes only the asking client's tokens (RFC 7009
// §2.1, still 200), and no client id can be a user's subject (RFC 9068 §5).
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { addUser, login, runScript, startAuth, testDir } from '../helper.js'
import { basic } from './helpers.js'

async function postForm (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields)
  })
  return { status: response.status, body: await response.json() as Record<string, string> }
}

/** The auth service with a user alice (logged in: her refresh token) and a confidential client billing. */
async function setting (t: Test) {
  const auth = await startAuth(t)
  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  await addUser(auth, 'alice', 'correct horse battery')
  const { body } = await login(auth.url, 'alice', 'correct horse battery')
  return { auth, billing: basic('billing', clientSecret), refreshToken: body.refresh_token as string }
}

const refreshGrant = (refreshToken: string) => ({ grant_type: 'refresh_token', refresh_token: refreshToken })

t.test('another client presenting a user\'s refresh token: invalid_grant, and the token is left untouched', async (t) => {
  const { auth, billing, refreshToken } = await setting(t)
  const stolen = await postForm(`${auth.url}/oauth/token`, refreshGrant(refreshToken), billing)
  t.equal(stolen.status, 400)
  t.same(stolen.body, { error: 'invalid_grant', error_description: 'The refresh token is not valid; log in again', statusCode: 400, code: 'OAUTH_INVALID_GRANT' })

  const owner = await postForm(`${auth.url}/oauth/token`, { ...refreshGrant(refreshToken), client_id: 'first-party-login' })
  t.equal(owner.status, 200, 'the login client, naming itself, still refreshes it: neither spent nor revoked')
  t.equal(decodeJwt(owner.body.access_token!).client_id, 'first-party-login')
  const anonymous = await postForm(`${auth.url}/oauth/token`, refreshGrant(owner.body.refresh_token!))
  t.equal(anonymous.status, 200, 'no client named: the public login client, as /auth/refresh')
})

t.test('/oauth/revoke by another client: 200, and nothing is revoked; by the token\'s own client: revoked', async (t) => {
  const { auth, billing, refreshToken } = await setting(t)
  const foreign = await postForm(`${auth.url}/oauth/revoke`, { token: refreshToken }, billing)
  t.equal(foreign.status, 200)
  t.same(foreign.body, {})
  const still = await postForm(`${auth.url}/oauth/token`, refreshGrant(refreshToken))
  t.equal(still.status, 200, 'the session lives on')

  const own = await postForm(`${auth.url}/oauth/revoke`, { token: still.body.refresh_token!, client_id: 'first-party-login' })
  t.equal(own.status, 200)
  t.equal((await postForm(`${auth.url}/oauth/token`, refreshGrant(still.body.refresh_token!))).body.error, 'invalid_grant', 'revoked')
})

t.test('client ids shaped like user ids are refused, so a client token\'s sub is never a user\'s', async (t) => {
  const { auth } = await setting(t)
  const alice = await auth.store.users.findByUsername('alice')
  for (const clientId of [alice!.id, randomUUID().toUpperCase()]) {
    await t.rejects(auth.store.clients.create({ clientId, name: 'x', scopes: ['orders:read'], audiences: ['ssot-api'] }),
      { code: 'AUTH_CLIENT_ID_INVALID', statusCode: 400, message: /cannot be shaped like a UUID/ })
  }
  await t.rejects(auth.store.clients.create({ clientId: 'has space', name: 'x', scopes: ['a'], audiences: ['b'] }), { code: 'AUTH_CLIENT_ID_INVALID' })
  // Scopes and audiences no token request could ever be granted (RFC 6749 §3.3 scope-tokens, the lengths /oauth/token takes).
  const badScopes: Array<[string[], string[]]> = [[[], ['b']], [['"q"'], ['b']], [['a\\b'], ['b']], [['é'], ['b']], [['s'.repeat(1025)], ['b']], [['a'], []], [['a'], ['a b']], [['a'], ['x'.repeat(257)]]]
  for (const [scopes, audiences] of badScopes) {
    await t.rejects(auth.store.clients.create({ clientId: 'fine', name: 'x', scopes, audiences }), { code: 'AUTH_CLIENT_SCOPES_INVALID', statusCode: 400 }, JSON.stringify([scopes, audiences]))
  }

  // A row from before the rule (written directly) never gets a token.
  const { clientSecret } = await auth.store.clients.create({ clientId: 'legacy', name: 'Legacy', scopes: ['orders:read'], audiences: ['ssot-api'] })
  await auth.store.db.updateTable('clients').set({ client_id: alice!.id }).where('client_id', '=', 'legacy').execute()
  const refused = await postForm(`${auth.url}/oauth/token`, { grant_type: 'client_credentials' }, basic(alice!.id, clientSecret))
  t.equal(refused.status, 401)
  t.equal(refused.body.error, 'invalid_client')
})

t.test('npm run client:add refuses a UUID-shaped id and LOGIN_CLIENT_ID, saying why', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'clients.sqlite')}` }
  const uuid = runScript('services/auth/cli/client-add.ts', [randomUUID(), '--scopes', 'orders:read'], env)
  t.equal(uuid.status, 2)
  t.match(uuid.stderr, /not created: a client id cannot be shaped like a UUID: user ids are UUIDs/)
  const login = runScript('services/auth/cli/client-add.ts', ['first-party-login', '--scopes', 'orders:read'], env)
  t.equal(login.status, 2)
  t.match(login.stderr, /not created: first-party-login is LOGIN_CLIENT_ID, the client of first-party logins/)
})
