// Everything the admin API does, over real HTTP, and the audit trail it leaves: exactly one record
// per change, and no password, secret or token anywhere in the trail.
import t from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { basic } from '../sessions/helpers.js'
import { ADMIN_PASSWORD, adminSetUp, adminToken } from './helpers.js'

t.test('users, sessions, clients, keys, revocations: one audit record per change, no secret in any', async (t) => {
  const { auth, call, token } = await adminSetUp(t, startAuth, { KEYS_RELOAD_INTERVAL: '0' })
  const secrets = [ADMIN_PASSWORD, token]
  const adminEvents = async () => (await auth.store.audit.list({ actor: 'root', limit: 1000 })).length
  let expected = 0
  /** A change through the API: its answer, and exactly one new audit record by root. */
  async function change (method: string, path: string, body?: unknown) {
    const answer = await call(method, path, body)
    expected++
    t.equal(await adminEvents(), expected, `${method} ${path}: one audit record`)
    return answer
  }

  // Users: create (temporary password), list and search with paging.
  const temporary = 'a temporary password 1'
  secrets.push(temporary)
  t.same((await change('POST', '/api/users', { username: 'Dave', password: temporary, roles: ['editor'] })).body, { username: 'dave' })
  for (const name of ['erin', 'eve', 'frank']) await addUser(auth, name, 'some password 12')
  const page1 = await call('GET', '/api/users?limit=2')
  t.same(page1.body.items.map((user: { username: string }) => user.username), ['dave', 'erin'])
  const page2 = await call('GET', `/api/users?limit=2&after=${page1.body.next}`)
  t.same(page2.body.items.map((user: { username: string }) => user.username), ['eve', 'frank'])
  t.same((await call('GET', '/api/users?search=E')).body.items.map((user: { username: string }) => user.username), ['erin', 'eve'])
  t.same((await call('GET', '/api/users?search=%25')).body.items, [], 'a % in the search matches itself only')
  t.match(page1.body.items[0], { username: 'dave', roles: ['editor'], disabled: false, passwordChangeRequired: true })
  t.notOk('password_hash' in page1.body.items[0], 'never the hash')
  t.equal((await call('POST', '/api/users', { username: 'dave', password: temporary })).status, 409)
  t.equal((await call('POST', '/api/users', { username: 'x', password: 'short' })).body.code, 'FST_ERR_VALIDATION')

  // The temporary password signs nobody in until it is changed.
  const refused = await login(auth.url, 'dave', temporary)
  t.equal(refused.status, 403)
  t.equal(refused.body.code, 'AUTH_PASSWORD_CHANGE_REQUIRED')
  const chosen = 'dave chose this one'
  secrets.push(chosen)
  const changed = await fetch(`${auth.url}/auth/password`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dave', password: temporary, new_password: chosen })
  })
  t.equal(changed.status, 204)
  t.equal((await login(auth.url, 'dave', temporary)).status, 401, 'the temporary one is gone')
  const session = await login(auth.url, 'dave', chosen)
  t.equal(session.status, 200)
  secrets.push(session.body.access_token as string, session.body.refresh_token as string)
  await login(auth.url, 'dave', chosen)

  // Sessions: list, end one, end all.
  const sessions = (await call('GET', '/api/users/dave/sessions')).body.items as Array<{ id: string, clientId: string }>
  t.equal(sessions.length, 2)
  t.equal((await change('DELETE', `/api/users/dave/sessions/${sessions[0]!.id}`)).status, 204)
  t.equal((await call('DELETE', `/api/users/dave/sessions/${sessions[0]!.id}`)).body.code, 'ADMIN_SESSION_NOT_FOUND')
  t.same((await change('DELETE', '/api/users/dave/sessions')).body, { sessions: 1 })
  t.same((await call('GET', '/api/users/dave/sessions')).body.items, [])

  // Roles, password, throttling, disable, enable, delete.
  t.same((await change('PUT', '/api/users/dave/roles', { roles: ['editor', 'auditor', 'editor'] })).body, { roles: ['editor', 'auditor'] })
  const reset = 'reset by the admin 1'
  secrets.push(reset)
  t.same((await change('PUT', '/api/users/dave/password', { password: reset, temporary: false })).body, { sessions: 0 })
  t.equal((await login(auth.url, 'dave', reset)).status, 200, 'not temporary: it signs in')
  for (let i = 0; i < 12; i++) await login(auth.url, 'frank', 'wrong password!')
  t.equal((await login(auth.url, 'frank', 'some password 12')).status, 429, 'frank is throttled')
  t.equal((await change('POST', '/api/users/frank/unlock')).status, 204)
  t.equal((await login(auth.url, 'frank', 'some password 12')).status, 200, 'and no more')
  t.same((await change('POST', '/api/users/dave/disable')).body, { sessions: 1 })
  t.equal((await login(auth.url, 'dave', reset)).status, 401)
  t.equal((await change('POST', '/api/users/dave/enable')).status, 204)
  t.equal((await change('DELETE', '/api/users/eve')).status, 204)
  t.equal((await call('DELETE', '/api/users/eve')).body.code, 'ADMIN_USER_NOT_FOUND', 'a failed change records nothing')
  t.equal((await call('POST', '/api/users/nobody/disable')).status, 404)

  // Clients.
  const created = await change('POST', '/api/clients', { clientId: 'billing', scopes: ['orders:read'] })
  t.equal(created.status, 201)
  t.equal(created.headers.get('cache-control'), 'no-store')
  secrets.push(created.body.clientSecret)
  t.equal((await call('POST', '/api/clients', { clientId: 'billing', scopes: ['orders:read'] })).status, 409)
  t.equal((await call('POST', '/api/clients', { clientId: 'first-party-login', scopes: ['a'] })).body.code, 'ADMIN_CLIENT_RESERVED')
  t.same((await call('GET', '/api/clients?search=bill')).body.items.map((client: { clientId: string, audiences: string[] }) => [client.clientId, client.audiences]), [['billing', ['ssot-api']]])
  const tokenOf = async (secret: string) => (await fetch(`${auth.url}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('billing', secret) }, body: 'grant_type=client_credentials'
  })).status
  t.equal(await tokenOf(created.body.clientSecret), 200)
  const rotated = await change('POST', '/api/clients/billing/rotate-secret')
  secrets.push(rotated.body.clientSecret)
  t.equal(await tokenOf(created.body.clientSecret), 401, 'the old secret is dead')
  t.equal(await tokenOf(rotated.body.clientSecret), 200)
  t.same((await change('POST', '/api/clients/billing/disable')).body, { changed: true })
  t.same((await call('POST', '/api/clients/billing/disable')).body, { changed: false }, 'unchanged: not recorded')
  t.equal(await tokenOf(rotated.body.clientSecret), 401)
  t.same((await change('POST', '/api/clients/billing/enable')).body, { changed: true })
  t.equal((await change('DELETE', '/api/clients/billing')).status, 204)
  t.equal((await call('DELETE', '/api/clients/billing')).status, 404)

  // Keys.
  const before = (await call('GET', '/api/keys')).body.items as Array<{ kid: string, state: string }>
  t.same(before.map((key) => key.state).sort(), ['active', 'next'])
  t.equal((await call('POST', '/api/keys/rotate', {})).body.code, 'ISSUER_NEXT_KEY_TOO_YOUNG', 'a next key just made is too young')
  const rotation = await change('POST', '/api/keys/rotate', { force: true })
  t.equal(rotation.body.active, before.find((key) => key.state === 'next')!.kid)
  t.same((await call('GET', '/api/keys')).body.items.map((key: { state: string }) => key.state).sort(), ['active', 'next', 'retired'])

  // Revocations: the recent events, digests only.
  const recent = (await call('GET', '/api/revocations?limit=3')).body.items as Array<{ id: number, hash: string }>
  t.equal(recent.length, 3)
  t.ok(recent[0]!.id > recent[1]!.id, 'newest first')

  // The trail: filters, paging, JSON lines, and not one secret.
  const byTarget = (await call('GET', '/api/audit?target=dave&action=user.disable')).body.items
  t.match(byTarget, [{ actor: 'root', action: 'user.disable', target: 'dave', outcome: 'success', ip: '127.0.0.1', detail: { sessions: 1 } }])
  const logins = (await call('GET', '/api/audit?actor=dave&action=auth.login')).body.items as Array<{ outcome: string, detail: { reason?: string } }>
  // The temporary password refused, then checked by POST /auth/password, then gone; two sign-ins
  // with the chosen one, one after the reset, one refused once disabled.
  t.same(logins.map((event) => [event.outcome, event.detail.reason]).reverse(), [
    ['refused', 'password_change_required'], ['success', undefined], ['failure', 'invalid_credentials'], ['success', undefined],
    ['success', undefined], ['success', undefined], ['failure', 'invalid_credentials']
  ])
  t.equal((await call('GET', '/api/audit?actor=dave&action=auth.password_change')).body.items.length, 1)
  t.ok((await call('GET', '/api/audit?actor=frank&action=auth.login')).body.items.some((event: { outcome: string, detail: { reason?: string } }) =>
    event.outcome === 'refused' && event.detail.reason === 'throttled'), 'throttling is recorded')
  const first = await call('GET', '/api/audit?limit=2')
  const second = await call('GET', `/api/audit?limit=2&before=${first.body.next}`)
  t.ok(second.body.items[0].id < first.body.items[1].id, 'pages go back in time')
  t.same((await call('GET', `/api/audit?since=${new Date(Date.now() + 60_000).toISOString()}`)).body.items, [])
  t.ok((await call('GET', `/api/audit?until=${new Date(Date.now() + 60_000).toISOString()}`)).body.items.length > 0)
  t.equal((await call('GET', '/api/audit?since=yesterday')).status, 400)
  const lines = await call('GET', '/api/audit?limit=1000', undefined, token, { accept: 'application/x-ndjson' })
  t.match(lines.headers.get('content-type'), /^application\/x-ndjson/)
  const events = lines.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(events.length, (await auth.store.audit.list({ limit: 10_000 })).length, 'every event, one a line')
  for (const secret of secrets) t.notOk(lines.text.includes(secret), 'no password, secret or token in the trail')
})

t.test('logout and revocation are recorded; old events are purged', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth, { AUDIT_RETENTION_DAYS: '1' })
  await addUser(auth, 'gina', 'gina password 1')
  const pair = await login(auth.url, 'gina', 'gina password 1')
  const post = (path: string, body: Record<string, string>) =>
    fetch(`${auth.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal((await post('/auth/logout', { refresh_token: pair.body.refresh_token as string })).status, 204)
  const again = await login(auth.url, 'gina', 'gina password 1')
  t.equal((await post('/oauth/revoke', { token: again.body.access_token as string })).status, 200)
  t.equal((await post('/oauth/revoke', { token: again.body.refresh_token as string })).status, 200)
  t.equal((await post('/auth/logout', { refresh_token: 'never issued' })).status, 204)
  const events = (await call('GET', '/api/audit?target=gina')).body.items as Array<{ actor: string, action: string, detail: { token?: string } }>
  t.same(events.map((event) => [event.actor, event.action, event.detail.token]).reverse(), [
    ['gina', 'auth.login', undefined], ['gina', 'auth.logout', 'refresh_token'], ['gina', 'auth.login', undefined],
    ['first-party-login', 'token.revoke', 'access_token'], ['first-party-login', 'token.revoke', 'refresh_token']
  ])
  await auth.store.db.updateTable('audit_events').set({ at: new Date(Date.now() - 2 * 86_400_000).toISOString() }).where('target', '=', 'gina').execute()
  t.equal(await auth.store.audit.purgeOlderThan(new Date(Date.now() - 86_400_000)), 5, 'past the retention')
  t.same((await call('GET', '/api/audit?target=gina')).body.items, [])
})

t.test('a new admin token works as soon as the role is granted', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth)
  await addUser(auth, 'hank', 'hank password 1')
  t.equal((await call('PUT', '/api/users/hank/roles', { roles: ['admin'] })).status, 200)
  const hank = await adminToken(auth, 'hank')
  t.equal((await call('GET', '/api/keys', undefined, hank)).status, 200)
})
