// The verifier plugin: trusts one issuer's access tokens by checking them locally against the
// issuer's published JWKS. It holds no private key and cannot mint tokens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from '../shared/claims.js'
import { createKeySource } from './key-source.js'
import { bearerChallenge, JWKS_RETRY_AFTER_SECONDS, TokenInvalidError } from './errors.js'
import { checkClaims, toVerifierError } from './token-checks.js'

const AsymmetricAlgorithm = Type.Union(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']
  .map((alg) => Type.Literal(alg)))

export const VerifierOptionsSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The exact `iss` to trust' }),
  audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
  jwksUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: the issuer URL + /.well-known/jwks.json' })),
  algorithms: Type.Array(AsymmetricAlgorithm, { minItems: 1, default: ['RS256'] }),
  clockTolerance: Type.Integer({ minimum: 0, maximum: 300, default: 5, description: 'Seconds of clock skew allowed' }),
  fetchTimeout: Type.Integer({ minimum: 1, default: 3000, description: 'JWKS fetch timeout in ms' }),
  keyCacheMax: Type.Integer({ minimum: 1, default: 50 }),
  keyCacheTtl: Type.Integer({ minimum: 1, default: 300_000, description: 'ms a fetched key is kept' }),
  realm: Type.String({ default: 'api' })
})
export type VerifierOptions = Static<typeof VerifierOptionsSchema>
export type VerifierPluginOptions = Pick<VerifierOptions, 'issuer' | 'audience'> & Partial<VerifierOptions>

function checkOptions (options: VerifierPluginOptions): VerifierOptions {
  const withDefaults = Value.Default(VerifierOptionsSchema, structuredClone(options))
  const error = Value.Errors(VerifierOptionsSchema, withDefaults).First()
  if (error) throw new TypeError(`verifier plugin: option ${error.path.slice(1) || '(root)'}: ${error.message}`)
  return withDefaults as VerifierOptions
}

/** Registers @fastify/jwt in verify-only mode and decorates `fastify.authenticate`. */
export async function verifierPlugin (fastify: FastifyInstance, pluginOptions: VerifierPluginOptions) {
  const options = checkOptions(pluginOptions)
  const jwksUrl = options.jwksUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`
  const keySource = createKeySource({
    jwksUrl, fetchTimeout: options.fetchTimeout, cacheMax: options.keyCacheMax, cacheTtl: options.keyCacheTtl
  })
  const allowedAlgorithms: readonly string[] = options.algorithms

  await fastify.register(fastifyJwt, {
    // Only a public key source: with no private key, reply.jwtSign cannot mint a token here.
    secret: {
      public: async (request: FastifyRequest, token: { header: { alg?: unknown, kid?: unknown } }) => {
        // Refuse a disallowed alg before any key lookup: no fetch for `none` or HS256 tokens.
        if (!allowedAlgorithms.includes(token.header.alg as string)) throw new TokenInvalidError('the algorithm is not allowed')
        return keySource.publicKeyFor(token.header)
      }
    },
    decode: { complete: true },
    verify: {
      algorithms: options.algorithms,
      allowedIss: options.issuer,
      allowedAud: options.audience,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      checkTyp: ACCESS_TOKEN_TYPE,
      clockTolerance: options.clockTolerance * 1000
    },
    formatUser: (payload) => payload
  } as import('@fastify/jwt').FastifyJWTOptions)

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      const claims: unknown = await request.jwtVerify()
      request.user = checkClaims(claims, options.clockTolerance)
    } catch (err) {
      const error = toVerifierError(err)
      if (error.statusCode === 503) reply.header('retry-after', JWKS_RETRY_AFTER_SECONDS)
      const challenge = bearerChallenge(error, options.realm)
      if (challenge) reply.header('www-authenticate', challenge)
      throw error
    }
  }

  fastify.decorate('authenticate', authenticate)
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: answers 401/503 unless the request carries a valid access token. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    user: AccessTokenClaims
  }
}

export default fp(verifierPlugin, { name: 'verifier', fastify: '5.x' })
export * from './errors.js'
export type { AccessTokenClaims } from '../shared/claims.js'
