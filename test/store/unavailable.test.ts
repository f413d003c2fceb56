// PostgreSQL going away under a running auth service: 503 with a stable code, no crash,
// and recovery by itself when the database is back. The outage is a real TCP proxy that
// drops every connection, in front of the real server.
import { createServer, connect, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { addUser, buildAuth } from '../helper.js'
import { freshPostgresUrl, postgresBaseUrl } from './databases.js'

async function startProxy (t: Test, target: URL) {
  const sockets = new Set<Socket>()
  let accepting = true
  const server = createServer((client) => {
    if (!accepting) return client.destroy()
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket)).on('error', () => {})
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close() })
  return {
    port: (server.address() as { port: number }).port,
    cut () { accepting = false; for (const socket of sockets) socket.destroy() },
    restore () { accepting = true }
  }
}

t.test('login answers 503 AUTH_STORE_UNAVAILABLE while PostgreSQL is unreachable, then recovers', async (t) => {
  const baseUrl = postgresBaseUrl(t)
  if (!baseUrl) return
  const direct = new URL(await freshPostgresUrl(t, baseUrl))
  const proxy = await startProxy(t, direct)
  const viaProxy = new URL(direct)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)

  const app = await buildAuth(t, { DATABASE_URL: viaProxy.toString(), DATABASE_CONNECT_TIMEOUT_MS: '1000' })
  await addUser(app, 'alice', 'correct horse battery')
  const login = () => app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'correct horse battery' } })
  t.equal((await login()).statusCode, 200)

  proxy.cut()
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await login()
    t.equal(response.statusCode, 503)
    t.equal(response.json().code, 'AUTH_STORE_UNAVAILABLE')
    t.equal(response.headers['retry-after'], '5')
  }
  const oauth = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: 'x' } })
  t.equal(oauth.statusCode, 503)
  t.match(oauth.json(), { error: 'temporarily_unavailable', code: 'OAUTH_TEMPORARILY_UNAVAILABLE' })
  t.equal(oauth.headers['retry-after'], '5')

  proxy.restore()
  t.equal((await login()).statusCode, 200, 'recovers without a restart')
})
