// The verifier plugin: trusts the access tokens of configured issuers by checking them locally
// against each issuer's published JWKS. It holds no private key and cannot mint tokens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AccessTokenClaims } from '../shared/claims.js'
import { bearerChallenge, type VerifierError } from './errors.js'
import { createIssuerKeys, type FetchCounters } from './issuer-keys.js'
import { checkOptions, trustedIssuers, type VerifierPluginOptions } from './options.js'
import { scopeGuards } from './scopes.js'
import { createTokenCache } from './token-cache.js'
import { bearerToken, checkClaims, checkSignature, preCheck } from './token-checks.js'

/** Decorates `fastify.authenticate` (an onRequest/preHandler hook) and `fastify.verifier.stats()`. */
export async function verifierPlugin (fastify: FastifyInstance, pluginOptions: VerifierPluginOptions) {
  const options = checkOptions(pluginOptions)
  const counters: FetchCounters = { ok: 0, failed: 0, timedOut: 0 }
  const log = fastify.log.child({ plugin: 'verifier' })
  const issuers = new Map(trustedIssuers(options).map(({ issuer, jwksUrl }) => [issuer, createIssuerKeys(
    issuer, { ...options, jwksUrl }, counters, log)]))
  const issuerNames = new Set(issuers.keys())
  const claimRules = { audience: [options.audience].flat(), clockTolerance: options.clockTolerance }

  const tokenCache = options.tokenCacheMax > 0 ? createTokenCache(options.tokenCacheMax, options.tokenCacheTtl) : undefined

  async function verify (authorization: string | undefined): Promise<AccessTokenClaims> {
    const token = bearerToken(authorization)
    // A repeated token is answered before any decoding (its key is re-checked, see token-cache.ts).
    const cached = tokenCache?.get(token)
    if (cached) return cached
    const { kid, iss, jws } = preCheck(token, options.algorithms, issuerNames)
    const keys = issuers.get(iss)!
    const key = await keys.keyFor(kid)
    checkSignature(key, jws)
    const claims = checkClaims(jws.payload, claimRules)
    tokenCache?.set(token, {
      claims, stillPublished: () => keys.current(kid) === key, deadline: (claims.exp + options.clockTolerance) * 1000
    })
    return claims
  }

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      request.user = await verify(request.headers.authorization)
    } catch (err) {
      const error = err as VerifierError
      if ('retryAfter' in error) reply.header('retry-after', error.retryAfter)
      const challenge = bearerChallenge(error, options.realm)
      if (challenge) reply.header('www-authenticate', challenge)
      throw error
    }
  }

  const all = [...issuers.values()]
  fastify.decorateRequest('user', null as unknown as AccessTokenClaims)
  fastify.decorate('authenticate', authenticate)
  const { requireScope, requireRole } = scopeGuards(options.realm)
  fastify.decorate('requireScope', requireScope)
  fastify.decorate('requireRole', requireRole)
  fastify.decorate('verifier', {
    /** Counters and cache sizes, for metrics and readiness. */
    stats: () => ({
      jwksFetches: { ...counters },
      keysCached: all.reduce((sum, keys) => sum + keys.keysCached, 0),
      unknownKidsCached: all.reduce((sum, keys) => sum + keys.unknownKidsCached, 0),
      tokensCached: tokenCache?.size ?? 0,
      jwksLoaded: all.some((keys) => keys.loaded)
    })
  })
  // Warm the keys before the first request; a failure here is retried after the cooldown.
  fastify.addHook('onReady', async () => { for (const keys of all) keys.refresh() })
  fastify.addHook('onClose', async () => { for (const keys of all) keys.close() })
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: answers 401/503 unless the request carries a valid access token. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** A preHandler for after `authenticate`: 403 insufficient_scope unless the token has every scope. */
    requireScope: ReturnType<typeof scopeGuards>['requireScope']
    /** The same for the token's `roles`. */
    requireRole: ReturnType<typeof scopeGuards>['requireRole']
    verifier: {
      stats: () => {
        jwksFetches: FetchCounters
        keysCached: number
        unknownKidsCached: number
        tokensCached: number
        jwksLoaded: boolean
      }
    }
  }
  interface FastifyRequest {
    /** The verified access token's claims, set by `fastify.authenticate`. */
    user: AccessTokenClaims
  }
}

export default fp(verifierPlugin, { name: 'verifier', fastify: '5.x' })
export * from './errors.js'
export { VerifierOptionsSchema, type VerifierOptions, type VerifierPluginOptions, type TrustedIssuer } from './options.js'
export type { AccessTokenClaims } from '../shared/claims.js'
