// Revocation end to end, over real HTTP: every source (logout, RFC 7009 for a refresh or an access
// token, refresh-token reuse, the user, session and client CLIs) ends in a 401 `revoked` at the
// resource service, which follows the auth service's feed by discovery and calls it for nothing
// per request; a resource service started later gets the snapshot; an auth restart loses nothing;
// the feed down is reported by /ready and /metrics, and REVOCATION_FAIL_CLOSED_AFTER refuses tokens.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { addUser, login, runCli, startAuth, startResource, testDir, type Env } from '../helper.js'
import { basic } from '../sessions/helpers.js'

const PASSWORD = 'correct horse battery'

async function until (condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function services (t: Test, resourceEnv: Env = {}) {
  const env = { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}` }
  const auth = await startAuth(t, { ...env, REVOCATION_FEED_POLL_MS: '50', LOGIN_MAX_PER_USERNAME: '100' })
  await addUser(auth, 'alice', PASSWORD)
  const resource = await startResource(t, auth.url, resourceEnv)
  await until(() => resource.verifier.stats().revocations.synced === 1, 'the resource service to follow the feed')
  const call = async (token: string) => {
    const response = await fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${token}` } })
    return { status: response.status, body: await response.json() as { code?: string, message?: string } }
  }
  /** Resolves once `token` is refused as revoked; rejects if that takes more than a few seconds. */
  const refused = (token: string, what: string) => until(async () => {
    const { status, body } = await call(token)
    return status === 401 && body.code === 'AUTH_TOKEN_INVALID' && /revoked/.test(body.message ?? '')
  }, `${what} to be refused`)
  const session = async () => (await login(auth.url, 'alice', PASSWORD)).body as Record<string, string>
  return { auth, resource, env, call, refused, session }
}

function post (url: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() })
}

t.test('each HTTP source of a revocation ends in a 401 at the resource service', async (t) => {
  const { auth, call, refused, session } = await services(t)
  const [loggedOut, kept, revokedRefresh, revokedAccess, reused] = [await session(), await session(), await session(), await session(), await session()]
  for (const pair of [loggedOut, kept, revokedRefresh, revokedAccess, reused]) t.equal((await call(pair.access_token!)).status, 200)

  await fetch(`${auth.url}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: loggedOut.refresh_token }) })
  await refused(loggedOut.access_token!, 'a logged-out session')
  t.equal((await call(kept.access_token!)).status, 200, 'another session of the same user is untouched')

  await post(`${auth.url}/oauth/revoke`, { token: revokedRefresh.refresh_token! })
  await refused(revokedRefresh.access_token!, 'the session of a revoked refresh token')

  const renewed = await (await fetch(`${auth.url}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: revokedAccess.refresh_token }) })).json() as Record<string, string>
  await post(`${auth.url}/oauth/revoke`, { token: revokedAccess.access_token!, token_type_hint: 'access_token' })
  await refused(revokedAccess.access_token!, 'a revoked access token')
  t.equal((await call(renewed.access_token!)).status, 200, 'an access token revoked alone: its session goes on')

  const refresh = (token: string) => fetch(`${auth.url}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: token }) })
  const next = await (await refresh(reused.refresh_token!)).json() as Record<string, string>
  t.equal((await refresh(reused.refresh_token!)).status, 401, 'a reused refresh token')
  await refused(reused.access_token!, 'the first token of a session whose refresh token was reused')
  await refused(next.access_token!, 'and the newest one')
})

t.test('the user, session and client CLIs end in a 401 at the resource service', async (t) => {
  const { auth, env, call, refused, session } = await services(t)
  const [first, second] = [await session(), await session()]
  t.equal((await runCli('sessions-revoke', ['alice'], env)).code, 0)
  for (const pair of [first, second]) await refused(pair.access_token!, 'every session of alice (sessions:revoke)')
  const third = await session()
  t.equal((await runCli('user-disable', ['alice'], env)).code, 0)
  await refused(third.access_token!, 'a disabled user\'s session (user:disable)')

  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['profile'], audiences: ['ssot-api'] })
  const clientToken = async (secret: string) => (await (await post(`${auth.url}/oauth/token`, { grant_type: 'client_credentials' }, basic('billing', secret))).json() as Record<string, string>).access_token!
  const beforeRotation = await clientToken(clientSecret)
  t.equal((await call(beforeRotation)).status, 200)
  const rotated = await runCli('client-rotate-secret', ['billing'], env)
  await refused(beforeRotation, 'a client token from before its secret was rotated (client:rotate-secret)')
  const afterRotation = await clientToken(rotated.stdout.trimEnd().split('\n').at(-1)!)
  t.equal((await call(afterRotation)).status, 200, 'the new secret\'s tokens work')
  t.equal((await runCli('client-disable', ['billing'], env)).code, 0)
  await refused(afterRotation, 'a disabled client\'s token (client:disable)')
})

t.test('a resource service started after a revocation refuses the token; an auth restart loses nothing', async (t) => {
  const { auth, resource, call, refused, session } = await services(t)
  const early = await session()
  await fetch(`${auth.url}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: early.refresh_token }) })
  const late = await startResource(t, auth.url)
  await until(() => late.verifier.stats().revocations.synced === 1, 'the late resource service')
  const answer = await fetch(`${late.url}/resource/protected`, { headers: { authorization: `Bearer ${early.access_token!}` } })
  t.equal(answer.status, 401, 'the snapshot holds the revocation made before it started')

  const pending = [await session(), await session()]
  const port = Number(new URL(auth.url).port)
  await auth.close()
  await until(() => resource.verifier.stats().revocations.synced === 0, 'the feed to be lost')
  const ready = await (await fetch(`${resource.url}/ready`)).json() as { status: string, checks: Record<string, string> }
  t.equal(ready.status, 'ready', 'fail open by default: still ready')
  t.match(ready.checks.revocations, /^degraded: the revocation feed has been unreachable for \d+ s; tokens are checked against the last \d+ revocations$/)
  t.match(await (await fetch(`${resource.url}/metrics`)).text(), /verifier_revocation_feeds\{state="lost"\} 1/)

  // The same database and port: another process of the same service, as after a restart.
  const again = await startAuth(t, { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, KEYS_DIR: auth.keysDir, REVOCATION_FEED_POLL_MS: '50' }, {}, port)
  await post(`${again.url}/oauth/revoke`, { token: pending[0]!.refresh_token! })
  await refused(pending[0]!.access_token!, 'a revocation made after the restart')
  t.equal((await call(pending[1]!.access_token!)).status, 200)
  t.equal(resource.verifier.stats().revocations.synced, 1)
})

t.test('REVOCATION_FAIL_CLOSED_AFTER: tokens are refused once the feed has been gone that long', async (t) => {
  const { auth, resource, call, session } = await services(t, { REVOCATION_FAIL_CLOSED_AFTER: '1s' })
  const { access_token: token } = await session()
  t.equal((await call(token!)).status, 200)
  await auth.close()
  await until(async () => (await call(token!)).status === 503, 'the fail-closed answer')
  const refusedAnswer = await call(token!)
  t.equal(refusedAnswer.body.code, 'AUTH_REVOCATIONS_UNAVAILABLE')
  const ready = await fetch(`${resource.url}/ready`)
  t.equal(ready.status, 503)
  t.match((await ready.json() as { checks: Record<string, string> }).checks.revocations, /tokens are refused \(REVOCATION_FAIL_CLOSED_AFTER\)/)
})
