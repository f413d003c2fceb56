// Security headers (helmet's defaults) on every answer. helmet's default headers do not depend on
// the request, so they are worked out once, at registration, and set with reply.headers().
// @fastify/helmet builds a new helmet middleware on every request, and the middleware sets each
// header on the raw response, where Node validates it twice: together 28 of the 72 µs of CPU the
// resource service's unauthenticated route took (npm run bench -- --profile). Fastify never sets
// X-Powered-By, so helmet's removal of it has nothing to do here.
import { ifError } from 'node:assert'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'

/** The headers helmet() sets, recorded from one run of its middleware on a stand-in response. */
export function helmetHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader (name: string, value: unknown) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  // The middleware runs synchronously; an error (a bad CSP directive) reaches its callback.
  helmet()({} as IncomingMessage, response as unknown as ServerResponse, ifError)
  return headers
}

async function securityHeaders (fastify: FastifyInstance) {
  const headers = helmetHeaders()
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers)
    done()
  })
}

export default fp(securityHeaders, { name: 'security-headers', fastify: '5.x' })
