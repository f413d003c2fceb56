// What both services register first for production: security headers, load shedding, metrics
// and the docs page. Routes registered after this call are measured and documented.
import type { FastifyInstance } from 'fastify'
import underPressure from '@fastify/under-pressure'
import docs, { type DocsOptions } from './docs.js'
import metrics from './metrics.js'
import type { OperationsOptions } from './operations-config.js'
import securityHeaders from './security-headers.js'

/**
 * While closing, answers carry `Connection: close`: Node keeps a client's keep-alive connection
 * open after its last in-flight answer, and close() would wait for its idle timeout (72 s).
 */
function closeConnectionsWhenClosing (app: FastifyInstance) {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}

export async function registerOperations (app: FastifyInstance, options: OperationsOptions, docsOptions: DocsOptions) {
  closeConnectionsWhenClosing(app)
  await app.register(securityHeaders)
  await app.register(underPressure, {
    maxEventLoopDelay: options.pressure.maxEventLoopDelay,
    maxHeapUsedBytes: options.pressure.maxHeapUsedBytes,
    retryAfter: options.pressure.retryAfter
  })
  await app.register(metrics)
  await app.register(docs, docsOptions)
}
