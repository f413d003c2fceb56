// Errors raised before any route runs (an unknown route, a bad URL, bytes that are not HTTP,
// oversized headers, a request not received in time), answered in the service's error shape
// instead of Fastify's and Node's own bodies, which have no stable `code`.
import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The body of an error for a request to `url` (undefined when the request line could not be read). */
export type ErrorBodyFor = (url: string | undefined, statusCode: number, code: string, message: string) => Record<string, unknown>

/** `{statusCode, code, error, message}`, as every route error. */
export const standardErrorBody: ErrorBodyFor = (url, statusCode, code, message) => ({
  statusCode, code, error: String(STATUS_CODES[statusCode]), message
})

/** What a parser or timeout error from Node means for the client. */
function describeClientError (code: string | undefined): [number, string, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'REQUEST_TIMEOUT', 'The request did not arrive in time']
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'REQUEST_HEADERS_TOO_LARGE', 'The request headers are too large']
  return [400, 'MALFORMED_REQUEST', 'The request is not valid HTTP']
}

/** The path of the request a client error belongs to: the one in flight, or the request line in the bytes that failed. */
function urlOf (err: ConnectionError, inFlight: ServerResponse | undefined): string | undefined {
  if (inFlight) return inFlight.req.url
  // Node gives the bytes it could not parse as a Buffer (Fastify's type says otherwise).
  const raw: unknown = err.rawPacket
  return Buffer.isBuffer(raw) ? /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/.exec(raw.toString('latin1'))?.[1] : undefined
}

/** Fastify's `clientErrorHandler`: writes the answer on the raw socket, then closes it. */
export function clientErrorHandler (errorBody: ErrorBodyFor) {
  return function (this: FastifyInstance, err: ConnectionError, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const [statusCode, code, message] = describeClientError(err.code)
    this.log.debug({ err: { code: err.code, message: err.message } }, 'client error')
    // The response in flight on this socket, if any (Node's own clientError fallback reads it so too).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    // An answer already begun cannot take another status line; the socket is only closed.
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(errorBody(urlOf(err, inFlight), statusCode, code, message))
      socket.write(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    }
    socket.destroy()
  }
}

/** Fastify's `frameworkErrors` (a URL it cannot decode, a parameter too long): our body, its code. */
export function frameworkErrorHandler (errorBody: ErrorBodyFor) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // Fastify's framework errors (FST_ERR_BAD_URL 400, FST_ERR_MAX_PARAM_LENGTH 414) all carry a status.
    const statusCode = err.statusCode!
    reply.code(statusCode).send(errorBody(request.url, statusCode, err.code, err.message))
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

/**
 * The not-found handler: a path that exists with other methods is 405 `METHOD_NOT_ALLOWED` with
 * `Allow` (RFC 9110 §15.5.6), any other 404 `ROUTE_NOT_FOUND`; each names the method and path (not
 * the query) as Fastify does.
 */
export function notFoundHandler (errorBody: ErrorBodyFor = standardErrorBody) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!
    const allowed = METHODS.filter((method) => request.server.findRoute({ method, url: path }) !== null)
    if (allowed.length > 0) {
      const message = `Method ${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`
      return reply.code(405).header('allow', allowed.join(', ')).send(errorBody(request.url, 405, 'METHOD_NOT_ALLOWED', message))
    }
    return reply.code(404).send(errorBody(request.url, 404, 'ROUTE_NOT_FOUND', `Route ${request.method}:${path} not found`))
  }
}
