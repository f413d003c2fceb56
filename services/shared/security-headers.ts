// Security headers (helmet's defaults) on every answer. helmet's default headers do not depend on
// the request, so they are worked out once, at registration, and set with reply.headers().
// @fastify/helmet builds a new helmet middleware on every request, and the middleware sets each
// header on the raw response, where Node validates it twice: together that was more per request
// than everything else the ceiling route does (npm run bench -- --profile).
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
  // helmet 8.1 and later throw their errors instead of passing them to this callback.
  helmet()({} as IncomingMessage, response as unknown as ServerResponse, () => {})
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
