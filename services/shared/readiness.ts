// GET /health (the process answers) and GET /ready (every dependency check passes), for
// orchestrators and load balancers. A 503 body names each failed check.
import { STATUS_CODES } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { HealthSchema } from './schemas.js'

/**
 * A readiness check: resolves to undefined when fine, to a sentence saying what is wrong, or to
 * `{ degraded }`: working, but not as it should (reported as `degraded: …`, still ready).
 */
export type ReadinessCheck = () => Promise<string | undefined | { degraded: string }>

export interface ReadinessOptions {
  checks: Record<string, ReadinessCheck>
}

const ChecksSchema = Type.Record(Type.String(), Type.String(), { description: '`ok`, `degraded: …` (working, still ready), or what is wrong' })
const ReadySchema = Type.Object({ status: Type.Literal('ready'), checks: ChecksSchema })
const NotReadySchema = Type.Object({
  statusCode: Type.Literal(503),
  code: Type.String({ description: '`SERVICE_NOT_READY`, or `FST_UNDER_PRESSURE` when shedding load' }),
  error: Type.String(),
  message: Type.String(),
  // Absent when the service sheds load: it answers 503 before running any check.
  checks: Type.Optional(ChecksSchema)
}, { description: 'The usual error body, plus the result of every check' })

/** What a check reports, and whether it makes the service not ready (anything but ok or degraded). */
async function runCheck (check: ReadinessCheck): Promise<{ text: string, failed: boolean }> {
  try {
    const result = await check()
    if (result === undefined) return { text: 'ok', failed: false }
    return typeof result === 'string' ? { text: result, failed: true } : { text: `degraded: ${result.degraded}`, failed: false }
  } catch (err) {
    return { text: `failed: ${(err as Error).message}`, failed: true }
  }
}

export async function readinessRoutes (fastify: FastifyInstance, options: ReadinessOptions) {
  fastify.get('/health', {
    // Liveness must not fail under load: a restart would only add to it.
    config: { pressureHandler: () => undefined },
    schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: HealthSchema } }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: every dependency is usable',
      response: { 200: ReadySchema, 503: NotReadySchema }
    }
  }, async (request, reply) => {
    const names = Object.keys(options.checks)
    const results = await Promise.all(names.map((name) => runCheck(options.checks[name]!)))
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!.text]))
    const failed = names.filter((name, i) => results[i]!.failed)
    if (failed.length === 0) return { status: 'ready' as const, checks }
    return reply.code(503).send({
      statusCode: 503,
      code: 'SERVICE_NOT_READY' as const,
      error: STATUS_CODES[503]!,
      message: failed.map((name) => `${name}: ${checks[name]}`).join('; '),
      checks
    })
  })
}
