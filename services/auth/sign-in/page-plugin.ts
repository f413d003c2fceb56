// What every plugin of hosted pages (sign-in, sign-out) starts with: form bodies, the same headers
// on every answer, and errors shown as pages.
import { ifError } from 'node:assert'
import formBody from '@fastify/formbody'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import helmet from 'helmet'
import { STORE_RETRY_AFTER_SECONDS } from '../store/errors.js'
import { errorPage } from './pages.js'

/** Sends an HTML page. */
export const page = (reply: FastifyReply, statusCode: number, body: string) => reply.code(statusCode).type('text/html; charset=utf-8').send(body)

/** The headers of every page and redirect here (RFC 9700 §4.2, §4.16): never cached, never framed, no Referer. */
function pageHeaders (secure: boolean): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = { setHeader (name: string, value: unknown) { headers[name.toLowerCase()] = String(value) } }
  // helmet's CSP with frame-ancestors 'none'; form-action is left out, since the login form's
  // answer redirects to the app (browsers apply form-action to redirects after a POST); and on
  // http (development) no upgrade-insecure-requests, which would send the form to https.
  helmet.contentSecurityPolicy({ directives: { frameAncestors: ["'none'"], formAction: null, ...(!secure && { upgradeInsecureRequests: null }) } })(
    {} as never, response as never, ifError)
  return { ...headers, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' }
}

/** Shows an error page with the HTTP status of `err`; the store down is 503 with Retry-After. */
function pageErrorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
  if (statusCode >= 500) {
    if (statusCode === 503) reply.header('retry-after', STORE_RETRY_AFTER_SECONDS)
    else request.log.error({ err }, 'unexpected error')
    return page(reply, statusCode,
      errorPage('Sign-in is not available', 'Something went wrong on our side. Please try again in a moment.', statusCode === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR'))
  }
  return page(reply, statusCode, errorPage('This request cannot be used', err.message, err.code))
}

/** Form bodies, the page headers on every answer, errors as pages; `issuer`'s scheme says whether pages are served over https. */
export async function setUpPages (fastify: FastifyInstance, issuer: string): Promise<void> {
  await fastify.register(formBody)
  const headers = pageHeaders(issuer.startsWith('https:'))
  fastify.addHook('onRequest', async (request, reply) => { reply.headers(headers) })
  fastify.setErrorHandler(pageErrorHandler)
}
