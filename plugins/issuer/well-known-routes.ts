// GET /.well-known/jwks.json and the two discovery documents (OpenID and RFC 8414).
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { KeyRing } from './key-ring.js'

export interface WellKnownOptions {
  issuer: string
  /** Seconds a verifier may cache the JWKS (Cache-Control max-age). */
  jwksMaxAge: number
  /** More discovery members (and the *_supported lists of the service's own grants); issuer, jwks_uri and token_endpoint win over them. */
  discoveryMetadata?: Record<string, unknown>
}

const JwkSchema = Type.Object({
  kty: Type.Literal('RSA'), n: Type.String(), e: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String()
})
const JwksSchema = Type.Object({ keys: Type.Array(JwkSchema) }, { description: 'The public signing keys (RFC 7517)' })
const DiscoverySchema = Type.Object({
  issuer: Type.String(),
  jwks_uri: Type.String(),
  token_endpoint: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  subject_types_supported: Type.Array(Type.String()),
  id_token_signing_alg_values_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String())
}, { additionalProperties: true })

export function discoveryDocument (issuer: string, extra: Record<string, unknown> = {}) {
  const base = issuer.replace(/\/+$/, '')
  return {
    grant_types_supported: ['client_credentials', 'refresh_token'],
    response_types_supported: [],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    ...extra,
    issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/oauth/token`
  }
}

export async function wellKnownRoutes (fastify: FastifyInstance, opts: WellKnownOptions & { keyRing: KeyRing }) {
  const cacheControl = `public, max-age=${opts.jwksMaxAge}`

  fastify.get('/.well-known/jwks.json', {
    schema: { tags: ['keys'], summary: 'Public signing keys', response: { 200: JwksSchema, 304: Type.Null() } }
  }, async (request, reply) => {
    const { body, etag } = opts.keyRing.jwks()
    reply.header('cache-control', cacheControl).header('etag', etag)
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('application/jwk-set+json').send(body)
  })

  const discovery = JSON.stringify(discoveryDocument(opts.issuer, opts.discoveryMetadata))
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    fastify.get(path, {
      schema: { tags: ['keys'], summary: 'Discovery metadata', response: { 200: DiscoverySchema } }
    }, async (request, reply) => {
      return reply.header('cache-control', cacheControl).type('application/json').send(discovery)
    })
  }
}
