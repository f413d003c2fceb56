// Connections as a slow or broken client holds them, over raw sockets: a stalled upload or silent
// connection is answered 408 and closed within the configured time, keep-alive still serves real
// clients, and every error raised before a route (unknown route, oversized headers, bytes that are
// not HTTP, a bad URL) comes in our shape, or RFC 6749's under /oauth/.
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { startAuth, startResource } from '../helper.js'

interface RawAnswer { statusLine: string, body: Record<string, unknown> | undefined, closedAfterMs: number }

/** Writes `request` as is on a new connection and reads until the server closes it. */
function rawRequest (url: string, request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(Number(port), hostname)
    let received = ''
    socket.on('data', (chunk) => { received += chunk.toString('latin1') })
    socket.on('error', reject)
    socket.on('close', () => {
      const [head = '', body] = received.split('\r\n\r\n')
      resolve({ statusLine: head.split('\r\n')[0]!, body: body ? JSON.parse(body) : undefined, closedAfterMs: Date.now() - started })
    })
    socket.write(request)
  })
}

const SHORT = { HTTP_HEADERS_TIMEOUT: '1s', HTTP_REQUEST_TIMEOUT: '2s' }
// The configured time, plus Node's once-a-second check and a generous margin for a loaded machine.
const DEADLINE_MS = 2000 + 1000 + 5000

async function services (t: Test) {
  const auth = await startAuth(t, SHORT)
  const resource = await startResource(t, auth.url, SHORT)
  return { auth, resource }
}

t.test('a stalled upload (Content-Length 100, 10 bytes sent) is answered 408 and closed in time, at both services', async (t) => {
  const { auth, resource } = await services(t)
  const stalled = (path: string, type: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 100\r\n\r\n0123456789`
  for (const url of [auth.url, resource.url]) {
    const answer = await rawRequest(url, stalled('/auth/login', 'application/json'))
    t.equal(answer.statusLine, 'HTTP/1.1 408 Request Timeout')
    t.same(answer.body, { statusCode: 408, code: 'REQUEST_TIMEOUT', error: 'Request Timeout', message: 'The request did not arrive in time' })
    t.ok(answer.closedAfterMs < DEADLINE_MS, `closed after ${answer.closedAfterMs} ms (HTTP_REQUEST_TIMEOUT=2s)`)
  }
  const oauth = await rawRequest(auth.url, stalled('/oauth/token', 'application/x-www-form-urlencoded'))
  t.match(oauth.body, { error: 'invalid_request', statusCode: 408, code: 'OAUTH_INVALID_REQUEST' }, 'under /oauth/: an RFC 6749 body')
})

t.test('a connection that sends nothing, or headers that never end, is closed in time', async (t) => {
  const { auth } = await services(t)
  for (const request of ['', 'GET /health HTTP/1.1\r\nHost: x\r\n']) {
    const answer = await rawRequest(auth.url, request)
    t.equal(answer.statusLine, 'HTTP/1.1 408 Request Timeout')
    t.ok(answer.closedAfterMs < DEADLINE_MS, `closed after ${answer.closedAfterMs} ms`)
  }
})

t.test('keep-alive serves several requests on one connection, idle longer than the request timeouts', async (t) => {
  const { auth } = await services(t)
  const { hostname, port } = new URL(auth.url)
  const socket = connect(Number(port), hostname)
  t.teardown(() => socket.destroy())
  const answers: string[] = []
  socket.on('data', (chunk) => { answers.push(...chunk.toString().match(/HTTP\/1\.1 \d+/g) ?? []) })
  const request = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
  const waitForAnswers = async (count: number) => { while (answers.length < count) await new Promise((resolve) => setTimeout(resolve, 20)) }
  socket.write(request)
  await waitForAnswers(1)
  await new Promise((resolve) => setTimeout(resolve, 2500))
  socket.write(request)
  await waitForAnswers(2)
  t.same(answers, ['HTTP/1.1 200', 'HTTP/1.1 200'], 'both answered on the same socket')
  t.notOk(socket.destroyed)
})

t.test('errors before any route, in our shape (RFC 6749 under /oauth/), at both services', async (t) => {
  const { auth, resource } = await services(t)
  const cases = [
    ['DELETE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'ROUTE_NOT_FOUND', 'Route DELETE:/nowhere not found'],
    [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'REQUEST_HEADERS_TOO_LARGE', 'The request headers are too large'],
    ['GET /health HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n', 400, 'MALFORMED_REQUEST', 'The request is not valid HTTP'],
    ['HELLO /health\r\n\r\n', 400, 'MALFORMED_REQUEST', 'The request is not valid HTTP'],
    ['GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'FST_ERR_BAD_URL', '\'/%E0%A4%A\' is not a valid url component']
  ] as const
  for (const url of [auth.url, resource.url]) {
    for (const [request, statusCode, code, message] of cases) {
      const answer = await rawRequest(url, request)
      t.match(answer.statusLine, new RegExp(`^HTTP/1\\.1 ${statusCode} `))
      t.same(answer.body, { statusCode, code, error: answer.statusLine.replace(/^HTTP\/1\.1 \d+ /, ''), message }, `${code} at ${url}`)
    }
  }
  for (const [request, statusCode, , message] of cases.filter(([request]) => request.includes(' HTTP/1.1'))) {
    const answer = await rawRequest(auth.url, request.replace(/\/health|\/nowhere/, '/oauth/nowhere').replace('/%E0', '/oauth/%E0'))
    const description = message.replace('DELETE:/nowhere', 'DELETE:/oauth/nowhere').replace('\'/%E0', '\'/oauth/%E0')
    t.same(answer.body, { error: 'invalid_request', error_description: description, statusCode, code: 'OAUTH_INVALID_REQUEST' }, `${statusCode} under /oauth/`)
  }
  const query = await fetch(`${auth.url}/nowhere?client_secret=hunter2`)
  t.notMatch(await query.text(), /hunter2/, 'a 404 names the path, never the query')
})
