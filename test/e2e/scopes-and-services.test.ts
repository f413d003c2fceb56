// Scopes and service-to-service calls over real HTTP: a machine client's token opens the route that
// needs its scope, a user's token gets 403 insufficient_scope, and the resource service calls
// another protected service with its own cached client_credentials token.
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import Fastify from 'fastify'
import verifier from '../../plugins/verifier/index.js'
import { addUser, captureLogs, childProcessEnv, login, reservePort, startAuth, startResource, testDir } from '../helper.js'

async function clientToken (authUrl: string, clientId: string, secret: string, scope?: string) {
  const response = await fetch(`${authUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, ...(scope && { scope }) })
  })
  return (await response.json() as { access_token: string }).access_token
}

const get = (url: string, token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } })

t.test('a route that needs a scope: 200 with it, 403 insufficient_scope without', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)
  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read', 'orders:write'], audiences: ['ssot-api'] })
  await addUser(auth, 'alice', 'correct horse battery')

  const granted = await get(`${resource.url}/resource/orders`, await clientToken(auth.url, 'billing', clientSecret))
  t.equal(granted.status, 200)
  t.match(await granted.json(), { orders: Array, readBy: 'billing' })

  for (const token of [
    (await login(auth.url, 'alice', 'correct horse battery')).body.access_token as string,
    await clientToken(auth.url, 'billing', clientSecret, 'orders:write')
  ]) {
    const refused = await get(`${resource.url}/resource/orders`, token)
    t.equal(refused.status, 403)
    t.equal(refused.headers.get('www-authenticate'),
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the scope orders:read", scope="orders:read"')
    t.match(await refused.json(), { statusCode: 403, code: 'AUTH_INSUFFICIENT_SCOPE' })
  }
})

t.test('requireRole and requireScope on any Fastify app', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'root', 'correct horse battery', ['admin', 'editor'])
  await addUser(auth, 'eve', 'correct horse battery', ['editor'])
  await addUser(auth, 'nobody', 'correct horse battery')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifier, { issuer: auth.url, audience: 'ssot-api' })
  app.get('/admin', { onRequest: app.authenticate, preHandler: app.requireRole('admin') }, async () => ({ ok: true }))
  app.get('/profile', { onRequest: app.authenticate, preHandler: app.requireScope('profile') }, async () => ({ ok: true }))
  app.get('/edit', { onRequest: app.authenticate, preHandler: app.requireRole('admin', 'editor') }, async () => ({ ok: true }))
  t.throws(() => app.requireScope('two words'), /requireScope needs names/)
  t.throws(() => app.requireRole(), /requireRole needs names/)

  const rootToken = (await login(auth.url, 'root', 'correct horse battery')).body.access_token as string
  const eveToken = (await login(auth.url, 'eve', 'correct horse battery')).body.access_token as string
  const call = (url: string, token: string) => app.inject({ url, headers: { authorization: `Bearer ${token}` } })
  t.equal((await call('/admin', rootToken)).statusCode, 200)
  t.equal((await call('/profile', eveToken)).statusCode, 200)
  t.equal((await call('/edit', eveToken)).statusCode, 200, 'one of the roles is enough')
  const refused = await call('/admin', eveToken)
  t.equal(refused.statusCode, 403)
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant any of the roles admin"')
  t.equal(refused.json().code, 'AUTH_INSUFFICIENT_SCOPE')
  const noRoles = (await login(auth.url, 'nobody', 'correct horse battery')).body.access_token as string
  t.equal((await call('/admin', noRoles)).statusCode, 403, 'a token without roles')
})

t.test('service to service: the report service reads orders with its own cached token', async (t) => {
  const logs = captureLogs('info')
  const auth = await startAuth(t, {}, { logger: logs.logger })
  await addUser(auth, 'alice', 'correct horse battery')
  const { clientSecret } = await auth.store.clients.create({ clientId: 'reporting', name: 'Reports', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const orders = await startResource(t, auth.url)
  const reports = await startResource(t, auth.url, {
    SERVICE_CLIENT_ID: 'reporting', SERVICE_CLIENT_SECRET: clientSecret, ORDERS_URL: `${orders.url}/resource/orders`
  })
  const userToken = (await login(auth.url, 'alice', 'correct horse battery')).body.access_token as string

  const answers = await Promise.all([1, 2, 3].map(() => get(`${reports.url}/resource/orders-report`, userToken)))
  for (const answer of answers) {
    t.equal(answer.status, 200)
    t.same(await answer.json(), { orderCount: 2, fetchedAs: 'reporting' })
  }
  t.equal((await get(`${reports.url}/resource/orders-report`, userToken)).status, 200)
  const tokenRequests = logs.lines.filter((line) => (line.req as { url?: string } | undefined)?.url === '/oauth/token')
  t.equal(tokenRequests.length, 1, 'four calls, one client_credentials request: the token is cached and shared')
})

t.test('service to service without a configured client: 503 with a stable code', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'alice', 'correct horse battery')
  const resource = await startResource(t, auth.url)
  const userToken = (await login(auth.url, 'alice', 'correct horse battery')).body.access_token as string
  const response = await get(`${resource.url}/resource/orders-report`, userToken)
  t.equal(response.status, 503)
  t.equal((await response.json() as { code: string }).code, 'RESOURCE_SERVICE_CLIENT_NOT_CONFIGURED')
})

t.test('service to service with a wrong secret or a failing upstream: 502/503, never 500', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'alice', 'correct horse battery')
  await auth.store.clients.create({ clientId: 'reporting', name: 'Reports', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const wrongSecret = await startResource(t, auth.url, { SERVICE_CLIENT_ID: 'reporting', SERVICE_CLIENT_SECRET: 'wrong', ORDERS_URL: `${auth.url}/nowhere` })
  const userToken = (await login(auth.url, 'alice', 'correct horse battery')).body.access_token as string
  const refused = await get(`${wrongSecret.url}/resource/orders-report`, userToken)
  t.equal(refused.status, 503)
  t.match(await refused.json(), { code: 'RESOURCE_SERVICE_TOKEN_UNAVAILABLE', message: /answered 401 invalid_client/ })

  const { clientSecret } = await auth.store.clients.create({ clientId: 'reporting-2', name: 'Reports', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const badUpstream = await startResource(t, auth.url, { SERVICE_CLIENT_ID: 'reporting-2', SERVICE_CLIENT_SECRET: clientSecret, ORDERS_URL: `${auth.url}/nowhere` })
  const failed = await get(`${badUpstream.url}/resource/orders-report`, userToken)
  t.equal(failed.status, 502)
  t.equal((await failed.json() as { code: string }).code, 'RESOURCE_UPSTREAM_FAILED')

  const closed = await reservePort()
  await closed.close()
  const noIssuer = await startResource(t, auth.url, {
    SERVICE_CLIENT_ID: 'reporting-2', SERVICE_CLIENT_SECRET: clientSecret, TOKEN_URL: `http://127.0.0.1:${closed.port}/oauth/token`
  })
  const unreachable = await get(`${noIssuer.url}/resource/orders-report`, userToken)
  t.equal(unreachable.status, 503)
  t.match(await unreachable.json(), { code: 'RESOURCE_SERVICE_TOKEN_UNAVAILABLE', message: /unreachable/ })

  // A token URL that answers something other than a token: JSON without one, and not JSON at all.
  const text = createServer((req, res) => res.end('hello'))
  await new Promise<void>((resolve) => text.listen(0, '127.0.0.1', resolve))
  t.teardown(() => text.close())
  for (const tokenUrl of [`${auth.url}/health`, `http://127.0.0.1:${(text.address() as { port: number }).port}/token`]) {
    const wrongUrl = await startResource(t, auth.url, { SERVICE_CLIENT_ID: 'reporting-2', SERVICE_CLIENT_SECRET: clientSecret, TOKEN_URL: tokenUrl })
    const answer = await get(`${wrongUrl.url}/resource/orders-report`, userToken)
    t.equal(answer.status, 503, tokenUrl)
  }
})

t.test('npm run client:add prints the secret once, and it works', async (t) => {
  const databaseUrl = `sqlite:${join(testDir(t), 'clients.sqlite')}`
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'services/auth/cli/client-add.ts', ...args], {
    env: childProcessEnv({ DATABASE_URL: databaseUrl }), encoding: 'utf8', timeout: 30_000
  })
  const created = run(['inventory', '--scopes', 'orders:read,stock:read', '--name', 'Inventory'])
  t.equal(created.status, 0, created.stderr)
  const secret = created.stdout.trim().split('\n').at(-1)!
  t.match(secret, /^[A-Za-z0-9_-]{43}$/)
  t.equal(run(['inventory', '--scopes', 'orders:read']).status, 1, 'a second client with that id is refused')
  t.equal(run(['no scopes']).status, 2)

  const auth = await startAuth(t, { DATABASE_URL: databaseUrl })
  const token = decodeURIComponent(await clientToken(auth.url, 'inventory', secret, 'stock:read'))
  t.ok(token.length > 100)
})
