// GET /revocations: the revocation feed, as Server-Sent Events (WHATWG HTML, "Server-sent events").
// Public like the JWKS: it carries only SHA-256 digests of random values (session ids, client
// credential generations, token ids), which reveal no user and no client.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { Gauge } from 'prom-client'
import { ErrorSchema } from '../../shared/schemas.js'
import { RevocationBadEventIdError, RevocationFeedBusyError } from '../errors.js'
import { createRevocationHub, type RevocationFeedOptions } from '../revocation-hub.js'
import { createStreamLimiter, FEED_STREAM_LIMITS } from '../stream-limits.js'

export const REVOCATIONS_PATH = '/revocations'
const BUSY_RETRY_AFTER_SECONDS = 5

const PROTOCOL = `A stream (text/event-stream) of every live revocation, then of each new one within a
second, whichever replica or CLI commits it.

1. Every live revocation with an id greater than the request's Last-Event-ID (all of them without
   the header, or when it is greater than the newest id, as after a database reset), in id order:
   \`id: 42\\nevent: revoked\\ndata: {"hash":"<hash>","exp":1767225600}\\n\\n\`
2. \`event: synced\\ndata: {"id":"42"}\\n\\n\` (no id field): everything up to now has been sent. \`id\` is
   the newest id sent, else the Last-Event-ID honoured, else "".
3. Each new revocation as it is committed, in the format of 1; a \`: keep-alive\` comment every
   REVOCATION_FEED_HEARTBEAT seconds.

\`hash\` is the base64url (no padding) SHA-256 of the UTF-8 text \`sid:<sid>\` or \`jti:<jti>\`: a
verifier refuses a token when either digest of its claims is in its set. \`exp\` (unix seconds):
after it no token the event affects is valid, so the verifier may forget it. Ids grow in commit
order: reconnect with Last-Event-ID to miss nothing. A Last-Event-ID that is not a decimal
integer: 400 \`REVOCATION_BAD_EVENT_ID\`. Past REVOCATION_FEED_MAX_STREAMS open streams, or
REVOCATION_FEED_MAX_STREAMS_PER_IP from one address: 503 \`REVOCATION_FEED_BUSY\` with Retry-After.`

/** The Last-Event-ID header as an id; absent (or empty, as no EventSource sends it) is undefined. */
function lastEventId (header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '') return undefined
  if (typeof header !== 'string' || !/^[0-9]+$/.test(header)) throw new RevocationBadEventIdError()
  return Number(header)
}

function feedMetrics (fastify: FastifyInstance, hub: ReturnType<typeof createRevocationHub>) {
  const registers = [fastify.metrics.register]
  return [
    new Gauge({ name: 'auth_revocation_feed_followers', help: 'Open streams of GET /revocations', registers, collect () { this.set(hub.followers()) } }),
    new Gauge({ name: 'auth_revocation_feed_last_id', help: 'Newest revocation id this replica has read', registers, collect () { this.set(hub.cursor()) } })
  ]
}

export async function revocationRoutes (fastify: FastifyInstance, options: RevocationFeedOptions) {
  const hub = createRevocationHub(fastify.store.revocations, options, fastify.log)
  const limiter = createStreamLimiter({
    maxStreams: options.maxStreams ?? FEED_STREAM_LIMITS.maxStreams,
    maxStreamsPerAddress: options.maxStreamsPerAddress ?? FEED_STREAM_LIMITS.maxStreamsPerAddress
  })
  feedMetrics(fastify, hub)
  fastify.addHook('onReady', hub.start)
  // preClose, before the server waits for open requests: a stream never ends on its own.
  fastify.addHook('preClose', hub.close)

  fastify.get(REVOCATIONS_PATH, {
    // Followers reconnecting during an overload must still hear of revocations. (Metrics: Fastify
    // runs onResponse when a stream ends, not while it is open, and never for one its follower
    // dropped, so streams do not pile up in the latency histogram.)
    config: { pressureHandler: () => undefined },
    schema: {
      tags: ['keys'],
      summary: 'Revocation feed (Server-Sent Events): a snapshot, then each revocation as it happens',
      description: PROTOCOL,
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'The id of the last event received' })) }),
      produces: ['text/event-stream'],
      response: { 200: Type.String({ description: 'text/event-stream' }), 400: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const after = lastEventId(request.headers['last-event-id'])
    const release = limiter.take(request.ip)
    if (!release) {
      reply.header('retry-after', BUSY_RETRY_AFTER_SECONDS)
      throw new RevocationFeedBusyError()
    }
    let stream
    try {
      stream = await hub.follow(after)
    } catch (err) {
      release()
      throw err
    }
    stream.once('close', release)
    return reply.headers({
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      // Proxies such as nginx would buffer the events otherwise.
      'x-accel-buffering': 'no',
      // The connection ends with the stream: close() then has no idle keep-alive socket to wait for.
      connection: 'close'
    }).send(stream)
  })
}
