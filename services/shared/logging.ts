// How both services log: one line per request, credentials redacted from every line, and an
// asynchronous destination that pino flushes when the process exits.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import pino from 'pino'
import { redactLogLine } from './redact.js'

/**
 * One line per request, written when it completes: `request completed` (or `request errored`)
 * with `reqId`, `req` (method, url, host, remoteAddress, remotePort), `res` (statusCode) and
 * `responseTime` in ms. Fastify's default writes `incoming request` as a second line; it is kept
 * at debug level, where it shows what is in flight.
 */
export class RequestLogController extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}

/**
 * stdout, asynchronously: no request waits on a write to stdout; lines logged while a write is
 * under way go out together in the next one. pino writes whatever is still buffered
 * synchronously when the process exits, and close-with-grace ends every shutdown (signal, fatal
 * error) with process.exit. Not batched by size (sonic-boom's minLength): a line could then wait
 * up to the flush period, and an operator, like a test, reads a request's line as it happens.
 */
export function stdoutDestination () {
  return pino.destination({ dest: 1, sync: false })
}

/** pino options: JSON lines, or pretty lines for a person at a terminal (`--dev`); secrets redacted. */
export function loggerOptions (level: string, pretty: boolean) {
  const hooks = { streamWrite: redactLogLine }
  return pretty
    ? { level, hooks, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
    : { level, hooks, stream: stdoutDestination() }
}
