// Who may call the admin API, over real HTTP: the verifier's 401s and 403s, the role in the
// database, a recent sign-in for destructive actions, and no admin route on the public port.
import t from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { adminSetUp, adminToken } from './helpers.js'

t.test('a token, of the admin audience, with the scope and the role', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth)
  await addUser(auth, 'bob', 'bob password 123')

  const none = await call('GET', '/api/users', undefined, '')
  t.equal(none.status, 401)
  t.equal(none.body.code, 'AUTH_TOKEN_MISSING')
  t.match(none.headers.get('www-authenticate'), /^Bearer/)

  const garbage = await call('GET', '/api/users', undefined, 'not.a.token')
  t.equal(garbage.status, 401)

  // A token for the resource services (TOKEN_AUDIENCE), from the public login: another audience.
  const publicToken = (await login(auth.url, 'root', 'the admin password, long enough')).body.access_token as string
  const otherAudience = await call('GET', '/api/users', undefined, publicToken)
  t.equal(otherAudience.status, 401, 'a token of another audience')
  t.equal(otherAudience.body.code, 'AUTH_TOKEN_INVALID')
  t.match(otherAudience.headers.get('www-authenticate'), /error="invalid_token"/)

  const readOnly = await adminToken(auth, 'root', { scope: 'admin:read' })
  t.equal((await call('GET', '/api/users', undefined, readOnly)).status, 200, 'admin:read reads')
  const write = await call('POST', '/api/users/bob/enable', undefined, readOnly)
  t.equal(write.status, 403, 'but does not write')
  t.match(write.headers.get('www-authenticate'), /error="insufficient_scope"/)

  const noScope = await adminToken(auth, 'root', { scope: 'profile' })
  t.equal((await call('GET', '/api/users', undefined, noScope)).status, 403, 'no admin scope')

  const noRoleClaim = await adminToken(auth, 'root', { roles: [] })
  const refusedRole = await call('GET', '/api/users', undefined, noRoleClaim)
  t.equal(refusedRole.status, 403, 'a token without the role')
  t.match(refusedRole.headers.get('www-authenticate'), /insufficient/)

  // bob's token claims the role, but the database says bob is no admin.
  const claimsOnly = await adminToken(auth, 'bob', { roles: ['admin'] })
  const notAdmin = await call('GET', '/api/users', undefined, claimsOnly)
  t.equal(notAdmin.status, 403)
  t.equal(notAdmin.body.code, 'ADMIN_ROLE_REQUIRED')
})

t.test('a destructive action needs a recent sign-in', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth, { ADMIN_MAX_AUTH_AGE: '60s' })
  await addUser(auth, 'bob', 'bob password 123')
  for (const claims of [{ signedInAgo: 61 }, { signedInAgo: undefined }]) {
    const stale = await adminToken(auth, 'root', claims)
    const refused = await call('POST', '/api/users/bob/disable', undefined, stale)
    t.equal(refused.status, 401, `auth_time ${claims.signedInAgo ?? 'missing'}`)
    t.equal(refused.body.code, 'ADMIN_REAUTH_REQUIRED')
    t.match(refused.headers.get('www-authenticate'), /error="insufficient_user_authentication".*max_age=60/)
    t.equal((await call('POST', '/api/users/bob/enable', undefined, stale)).status, 204, 'a change that destroys nothing does not need it')
  }
  const fresh = await adminToken(auth, 'root', { signedInAgo: 50 })
  t.same((await call('POST', '/api/users/bob/disable', undefined, fresh)).body, { sessions: 0 })
})

t.test('the admin routes are on the admin listener only', async (t) => {
  const { auth, admin, token } = await adminSetUp(t, startAuth)
  for (const path of ['/api/users', '/api/audit', '/api/keys']) {
    const onPublic = await fetch(`${auth.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(onPublic.status, 404, `${path} is not on the public port`)
    const onAdmin = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(onAdmin.status, 200, `${path} is on the admin port`)
    t.equal(onAdmin.headers.get('cache-control'), 'no-store')
  }
  t.equal((await fetch(`${admin.url}/auth/login`, { method: 'POST' })).status, 404, 'and the public routes are not on the admin port')
  const docs = await fetch(`${admin.url}/docs/json`)
  const paths = Object.keys((await docs.json() as { paths: Record<string, unknown> }).paths)
  t.ok(paths.includes('/api/users/{username}/disable'), 'the admin API is documented in OpenAPI')
})

t.test('disabling the admin or removing the role takes effect at once', async (t) => {
  const { auth, call, token } = await adminSetUp(t, startAuth)
  await addUser(auth, 'carol', 'carol password 1', ['admin'])
  const carol = await adminToken(auth, 'carol')
  t.equal((await call('GET', '/api/users', undefined, carol)).status, 200)
  t.equal((await call('PUT', '/api/users/carol/roles', { roles: [] }, token)).status, 200)
  t.equal((await call('GET', '/api/users', undefined, carol)).body.code, 'ADMIN_ROLE_REQUIRED')
})
