// The error body contract on a bare Fastify app: a stable code for every 4xx/5xx, and nothing
// of an unexpected 500 reaches the client (it goes to the log).
import Fastify from 'fastify'
import createError from '@fastify/error'
import t from 'tap'
import { Socket } from 'node:net'
import { errorHandler } from '../../services/shared/error-handler.js'
import { clientErrorHandler, standardErrorBody } from '../../services/shared/framework-errors.js'
import { captureLogs } from '../helper.js'

const Unavailable = createError('SOMETHING_DOWN', 'The thing is down', 503)

t.test('error bodies', async (t) => {
  const { lines, logger } = captureLogs('error')
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  app.setErrorHandler(errorHandler)
  app.get('/bug', async () => { throw new Error('database password is hunter2') })
  app.get('/down', async () => { throw new Unavailable() })
  app.get('/no-code', async () => { throw Object.assign(new Error('bad thing'), { statusCode: 400 }) })

  const bug = await app.inject('/bug')
  t.equal(bug.statusCode, 500)
  t.same(bug.json(), { statusCode: 500, code: 'INTERNAL_SERVER_ERROR', error: 'Internal Server Error', message: 'Something went wrong on our side' })
  t.notMatch(bug.body, /hunter2/)
  t.match(lines, [{ level: 50, msg: 'unexpected error', err: { message: 'database password is hunter2' } }], 'the detail is in the log')

  const down = await app.inject('/down')
  t.equal(down.statusCode, 503)
  t.equal(down.headers['retry-after'], '5')
  t.same(down.json(), { statusCode: 503, code: 'SOMETHING_DOWN', error: 'Service Unavailable', message: 'The thing is down' })

  const noCode = await app.inject('/no-code')
  t.same(noCode.json(), { statusCode: 400, code: 'BAD_REQUEST', error: 'Bad Request', message: 'bad thing' })
})

t.test('a client that reset its connection gets nothing written (there is no one to read it)', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const socket = new Socket()
  const written: unknown[] = []
  socket.write = ((chunk: unknown) => { written.push(chunk); return true }) as Socket['write']
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', bytesParsed: 0, rawPacket: { type: 'Buffer', data: [] } })
  clientErrorHandler(standardErrorBody).call(app, reset, socket)
  t.same(written, [])
  socket.destroy()
})
