// The HTTP server settings both services share: timeouts that free the sockets a client stalls
// (slowloris: headers or a body sent a byte at a time, or never), and the answers to the errors
// Node and Fastify raise before any route runs, in the service's error shape.
import type { Server } from 'node:http'
import type { FastifyHttpOptions } from 'fastify'
import { Duration, durationSeconds } from './config.js'
import { clientErrorHandler, frameworkErrorHandler, standardErrorBody, type ErrorBodyFor } from './framework-errors.js'

export const HttpEnvProperties = {
  HTTP_HEADERS_TIMEOUT: Duration('15s', 'A request\'s headers must arrive within this time (also a new connection\'s first request), else 408 and closed'),
  HTTP_REQUEST_TIMEOUT: Duration('30s', 'A whole request, body included, must arrive within this time, else 408 and closed; at least HTTP_HEADERS_TIMEOUT'),
  HTTP_KEEP_ALIVE_TIMEOUT: Duration('72s', 'An idle keep-alive connection is closed after this; keep it above the idle timeout of the proxy in front (60s on AWS ALB and nginx)')
}

/** Milliseconds. */
export interface HttpTimeouts {
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
}

/** How often Node looks for connections past their headers or request timeout (its default, 30 s, would add up to 30 s). */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000

/** The timeouts from the environment; 0 or a headers timeout above the request timeout is refused in one line. */
export function httpTimeouts (env: { [name in keyof typeof HttpEnvProperties]: string }): HttpTimeouts {
  const [headers, request, keepAlive] = [env.HTTP_HEADERS_TIMEOUT, env.HTTP_REQUEST_TIMEOUT, env.HTTP_KEEP_ALIVE_TIMEOUT].map(durationSeconds) as [number, number, number]
  if (headers === 0 || request === 0 || keepAlive === 0) {
    throw new Error('Invalid configuration: HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT and HTTP_KEEP_ALIVE_TIMEOUT must be at least 1s (0 would let a client hold a connection forever)')
  }
  if (headers > request) throw new Error('Invalid configuration: HTTP_HEADERS_TIMEOUT must not exceed HTTP_REQUEST_TIMEOUT')
  return { headersTimeout: headers * 1000, requestTimeout: request * 1000, keepAliveTimeout: keepAlive * 1000 }
}

/** Fastify's server options for `timeouts`; errors raised before a route are worded by `errorBody`. */
export function serverOptions (timeouts: HttpTimeouts, errorBody: ErrorBodyFor = standardErrorBody) {
  return {
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    http: {
      headersTimeout: timeouts.headersTimeout,
      requestTimeout: timeouts.requestTimeout,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS
    },
    clientErrorHandler: clientErrorHandler(errorBody),
    frameworkErrors: frameworkErrorHandler(errorBody)
  } satisfies FastifyHttpOptions<Server>
}
