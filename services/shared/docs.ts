// GET /docs: the OpenAPI 3 page generated from the route schemas (@fastify/swagger + swagger-ui).
// Registered before the routes, so that every route added after it appears on the page.
import { existsSync, readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ErrorSchema } from './schemas.js'

export interface DocsOptions {
  title: string
  description: string
}

// The root package.json: two folders up from this source, three from its build in dist/services/shared.
const packageJson = ['../../package.json', '../../../package.json'].map((path) => new URL(path, import.meta.url)).find(existsSync)!
const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }

// Every route can answer these, whatever its own schema lists: a bug (500) or load shedding (503).
const COMMON_ERRORS = { 500: ErrorSchema, 503: ErrorSchema } as const

type RouteSchema = { response?: Record<string, unknown>, hide?: boolean }

/** Adds the errors every route may answer to the documented responses (documentation only). */
export function withCommonErrors (schema: RouteSchema | undefined): RouteSchema | undefined {
  if (!schema?.response) return schema
  return { ...schema, response: { ...COMMON_ERRORS, ...schema.response } }
}

async function docsPlugin (fastify: FastifyInstance, options: DocsOptions) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, description: options.description, version },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /auth/login' }
        }
      }
    },
    transform: ({ schema, url }) => ({ schema: withCommonErrors(schema as RouteSchema) as typeof schema, url })
  })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    // swagger-ui's own CSP (with hashes of its inline parts) on its pages, in place of helmet's.
    staticCSP: true,
    uiConfig: { tryItOutEnabled: false, displayRequestDuration: true }
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
