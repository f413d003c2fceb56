// The admin API's refusals for what does not exist, paging of clients, an audit table that cannot
// be written (sign-ins go on), and the helpers server.ts and the CLIs use.
import t from 'tap'
import { cliActor, osUser } from '../../services/auth/admin/actions.js'
import { localUrl } from '../../services/auth/admin/app.js'
import { addUser, captureLogs, login, startAuth } from '../helper.js'
import { adminSetUp } from './helpers.js'

t.test('unknown users and clients are 404, with nothing recorded', async (t) => {
  const { auth, call } = await adminSetUp(t, startAuth)
  const missing: Array<[string, string, unknown?]> = [
    ['PUT', '/api/users/nobody/password', { password: 'long enough 123' }],
    ['GET', '/api/users/nobody/sessions'],
    ['DELETE', '/api/users/nobody/sessions'],
    ['PUT', '/api/users/nobody/roles', { roles: [] }],
    ['POST', '/api/users/nobody/unlock'],
    ['POST', '/api/users/nobody/enable'],
    ['POST', '/api/clients/nobody/enable'],
    ['POST', '/api/clients/nobody/disable'],
    ['POST', '/api/clients/nobody/rotate-secret']
  ]
  for (const [method, path, body] of missing) {
    const answer = await call(method, path, body)
    t.equal(answer.status, 404, `${method} ${path}`)
    t.match(answer.body.code, /^ADMIN_(USER|CLIENT)_NOT_FOUND$/)
  }
  t.same(await auth.store.audit.list({ actor: 'root', limit: 10 }), [])
})

t.test('clients page in client_id order', async (t) => {
  const { call } = await adminSetUp(t, startAuth)
  for (const clientId of ['c-1', 'c-2', 'c-3']) t.equal((await call('POST', '/api/clients', { clientId, scopes: ['a'], audiences: ['x'], name: clientId.toUpperCase() })).status, 201)
  const first = await call('GET', '/api/clients?limit=2&search=c-')
  t.same(first.body.items.map((client: { clientId: string }) => client.clientId), ['c-1', 'c-2'])
  t.equal(first.body.next, 'c-2')
  const second = await call('GET', `/api/clients?limit=2&search=c-&after=${first.body.next}`)
  t.same(second.body.items.map((client: { clientId: string, name: string }) => [client.clientId, client.name]), [['c-3', 'C-3']])
  t.notOk('next' in second.body, 'the last page')
  t.equal((await call('GET', '/api/clients?limit=0')).status, 400)
})

t.test('an audit table that cannot be written does not stop sign-ins', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const auth = await startAuth(t, {}, { logger })
  await addUser(auth, 'ivy', 'ivy password 12')
  auth.store.audit.record = async () => { throw new Error('disk full') }
  t.equal((await login(auth.url, 'ivy', 'ivy password 12')).status, 200)
  t.match(lines.filter((line) => line.msg.startsWith('audit')), [{ msg: 'audit event not recorded', err: 'disk full', action: 'auth.login' }])
})

t.test('localUrl and cliActor', async (t) => {
  const fake = (address: string, family: string) => ({ server: { address: () => ({ address, family, port: 1 }) } }) as never
  t.equal(localUrl(fake('0.0.0.0', 'IPv4')), 'http://127.0.0.1:1')
  t.equal(localUrl(fake('::', 'IPv6')), 'http://[::1]:1')
  t.equal(localUrl(fake('10.0.0.2', 'IPv4')), 'http://10.0.0.2:1')
  t.match(await cliActor(), { actor: /^cli:.+/, ip: 'local' })
  t.equal(osUser(() => { throw new Error('no passwd entry') }), 'unknown')
})
