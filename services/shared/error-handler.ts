// One error handler per service: every error body is {statusCode, code, error, message};
// the details of unexpected 500s stay in the log, never in the answer.
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

const RETRY_AFTER_SECONDS = 5

export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
  if (statusCode === 500) {
    request.log.error({ err }, 'unexpected error')
    return reply.code(500).send({
      statusCode, code: 'INTERNAL_SERVER_ERROR', error: STATUS_CODES[500], message: 'Something went wrong on our side'
    })
  }
  // A 503 is temporary by definition: say when to come back, unless the error already did.
  if (statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', RETRY_AFTER_SECONDS)
  return reply.code(statusCode).send({
    statusCode, code: err.code ?? 'BAD_REQUEST', error: STATUS_CODES[statusCode], message: err.message
  })
}
