// What the logs say about a request (one line, the fields the README names) and what they never
// say: a credential, whether sent in a query string, a body field or a nested object.
import Fastify from 'fastify'
import t from 'tap'
import { loggerOptions } from '../../services/shared/config.js'
import { RequestLogController } from '../../services/shared/logging.js'
import { redactLogLine, redactQuery } from '../../services/shared/redact.js'
import { addUser, captureLogs, startAuth, startResource } from '../helper.js'
import { loginPair } from '../sessions/helpers.js'

/** The production logger options (redaction included), writing to a capture stream. */
function productionLogs (level: string) {
  const capture = captureLogs(level)
  return { ...capture, logger: { ...loggerOptions(level, false), stream: capture.stream } }
}

t.test('one line per request at info, with reqId, req, res and responseTime', async (t) => {
  const { lines, logger } = productionLogs('info')
  const auth = await startAuth(t, {}, { logger })
  t.equal((await fetch(`${auth.url}/health`)).status, 200)
  await auth.close()
  const requestLines = lines.filter((line) => line.reqId !== undefined)
  t.equal(requestLines.length, 1, 'one line')
  t.match(requestLines[0], {
    level: 30,
    msg: 'request completed',
    reqId: String,
    req: { method: 'GET', url: '/health', host: /^127\.0\.0\.1:\d+$/, remoteAddress: '127.0.0.1', remotePort: Number },
    res: { statusCode: 200 },
    responseTime: Number
  })
})

t.test('at debug, a request also logs when it arrives; a 404 is one more request, its URL redacted', async (t) => {
  const { lines, logger } = productionLogs('debug')
  const auth = await startAuth(t, {}, { logger })
  await auth.inject('/health')
  await auth.inject('/no-such-route?password=hunter2')
  const requestLines = lines.filter((line) => line.reqId !== undefined)
  t.same(requestLines.map((line) => line.msg), ['incoming request', 'request completed', 'incoming request', 'request completed'])
  t.match(requestLines[3], { req: { url: '/no-such-route?password=[redacted]' }, res: { statusCode: 404 } })
  t.notMatch(JSON.stringify(lines), 'hunter2')
})

t.test('a request whose response failed is one line at error level', async (t) => {
  const { lines, logger } = productionLogs('info')
  const app = Fastify({ logger })
  await app.ready()
  // Fastify passes an error here when the connection broke mid-answer; called directly, as no test socket breaks on cue.
  const reply = { log: app.log, statusCode: 200, elapsedTime: 1 }
  new RequestLogController().requestCompleted(new Error('socket hang up'), { log: app.log } as never, reply as never)
  t.match(lines.at(-1), { level: 50, msg: 'request errored', err: { message: 'socket hang up' }, res: { statusCode: 200 }, responseTime: 1 })
})

t.test('credentials in a query string never reach the logs, on every route that refuses them', async (t) => {
  const { lines, logger } = productionLogs('debug')
  const auth = await startAuth(t, {}, { logger })
  await addUser(auth, 'alice', 'correct horse battery')
  const pair = await loginPair(auth, 'alice', 'correct horse battery')
  const resource = await startResource(t, auth.url)
  const secrets = ['query-password-1', pair.refresh_token, 'query-client-secret-2', pair.access_token]
  const post = (path: string) => fetch(`${auth.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  await post(`/auth/login?username=alice&password=${secrets[0]}`)
  await post(`/auth/refresh?refresh_token=${secrets[1]}`)
  await post(`/oauth/token?grant_type=client_credentials&client_id=billing&client_secret=${secrets[2]}`)
  await post(`/oauth/token?Client-Secret=${secrets[2]}&pass%77ord=${secrets[0]}`)
  // The resource service logs to its own (silent) logger: its URL is checked through the auth service's logger.
  t.equal((await fetch(`${resource.url}/resource/protected?access_token=${secrets[3]}`)).status, 401)
  await auth.inject(`/resource/protected?access_token=${secrets[3]}`)
  await auth.close()
  const text = lines.map((line) => JSON.stringify(line)).join('\n')
  for (const secret of secrets) t.notOk(text.includes(secret!), `${secret!.slice(0, 12)}… is not in the logs`)
  const urls = lines.filter((line) => line.msg === 'request completed').map((line) => (line.req as { url: string }).url)
  t.ok(urls.includes('/auth/login?username=alice&password=[redacted]'), 'the rest of the URL stays readable')
  t.ok(urls.includes('/oauth/token?grant_type=client_credentials&client_id=billing&client_secret=[redacted]'))
  t.ok(urls.includes('/oauth/token?Client-Secret=[redacted]&pass%77ord=[redacted]'), 'whatever the spelling')
})

t.test('redactLogLine: secrets at any depth and of any type; everything else as it was', async (t) => {
  const line = (value: unknown) => `${JSON.stringify(value)}\n`
  const plain = line({ level: 30, msg: 'request completed', req: { url: '/health' }, code: 'AUTH_TOKEN_INVALID' })
  t.equal(redactLogLine(plain), plain, 'a line with no credential is returned as it is')
  t.same(JSON.parse(redactLogLine(line({
    accessToken: 'a', body: [{ refreshToken: 'b' }, 'text'], headers: { Authorization: 'Bearer c', 'set-cookie': ['d'] }, pin: { password: 1234 }, ok: null
  }))), { accessToken: '[redacted]', body: [{ refreshToken: '[redacted]' }, 'text'], headers: { Authorization: '[redacted]', 'set-cookie': '[redacted]' }, pin: { password: '[redacted]' }, ok: null })
  t.same(JSON.parse(redactLogLine(line({ msg: 'see "password": in a message', url: '/x?a=1' }))), { msg: 'see "password": in a message', url: '/x?a=1' },
    'a quoted name inside a string is text, not a field')
})

t.test('redactQuery: credential-named parameters, however spelled; the rest untouched', async (t) => {
  t.equal(redactQuery('/cb?code=abc&state=xyz'), '/cb?code=[redacted]&state=xyz', 'an authorization code')
  t.equal(redactQuery('/x?api_key=1&API-KEY=2&apiKey=3&q=4'), '/x?api_key=[redacted]&API-KEY=[redacted]&apiKey=[redacted]&q=4')
  t.equal(redactQuery('/x?pass+word=1'), '/x?pass+word=[redacted]', '+ is a space, as in a form')
  t.equal(redactQuery('/x?%E0%A4%A=1&b=2'), '/x?%E0%A4%A=[redacted]&b=2', 'a name that cannot be decoded is treated as a secret')
  t.equal(redactQuery('no query here'), 'no query here')
})
