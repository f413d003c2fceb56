// The verifier plugin: trusts the access tokens of configured issuers by checking them locally
// against each issuer's published JWKS. It registers @fastify/jwt (fast-jwt checks the signature)
// with get-jwks resolving each token's key by kid, and the layer that hardens them: the key
// source (issuer-keys.ts), the fetch guard (key-agent.ts) and the checks around the signature
// (token-rules.ts). It holds no private key and cannot mint tokens.
// @fastify/jwt's types (request.user, request.jwtVerify) come with ours, in the emitted .d.ts too:
/// <reference types="@fastify/jwt" preserve="true" />
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { AccessTokenClaims } from '../shared/claims.js'
import type { Algorithm } from './algorithms.js'
import { bearerChallenge, fromJwtLibrary, isVerifierError, type VerifierError } from './errors.js'
import { checkOptions, trustedIssuers, type VerifierPluginOptions } from './options.js'
import type { RevocableToken } from './revocation-set.js'
import { scopeGuards } from './scopes.js'
import { createTokenCache } from './token-cache.js'
import { checkClaims, checkHeader, extractToken, frozen, type DecodedToken, type VerifiedClaims } from './token-rules.js'
import { createTrustedIssuers, refuseRevoked, stillStands, type TrustedIssuer } from './trusted-issuers.js'

/** What the checks of one request found, for the token cache. */
interface Checked { issuer: TrustedIssuer, kid: string, pem: string, exp: number, token: RevocableToken, user: unknown }

/** Decorates `fastify.authenticate`, `requireScope`, `requireRole` and `fastify.verifier`; registers @fastify/jwt. */
export async function verifierPlugin (fastify: FastifyInstance, pluginOptions: VerifierPluginOptions) {
  const { formatUser, ...options } = checkOptions(pluginOptions)
  const issuers = createTrustedIssuers(trustedIssuers(options), options, fastify.log.child({ plugin: 'verifier' }))
  const claimRules = { audience: [options.audience].flat(), clockTolerance: options.clockTolerance }
  const tokenCache = options.tokenCacheMax > 0 ? createTokenCache(options.tokenCacheMax, options.tokenCacheTtl) : undefined
  const verifyMethod = options.namespace === undefined ? 'jwtVerify' : options.jwtVerify ?? `${options.namespace}JwtVerify`
  const userProperty = options.decoratorName ?? 'user'
  // Requests whose token this verifier took up, and those whose key was found: a library error
  // after that point is about the signature, before it about the token's form.
  const taken = new WeakSet<FastifyRequest>()
  const checked = new WeakMap<FastifyRequest, Partial<Checked>>()
  const users = new WeakMap<object, unknown>()

  async function keyFor (request: FastifyRequest, decoded: DecodedToken): Promise<string> {
    const { alg, kid, iss } = checkHeader(decoded, options.algorithms, issuers.names)
    const issuer = issuers.get(iss)
    const pem = await issuer.keys.publicKey(kid, alg as Algorithm)
    checked.set(request, { issuer, kid, pem })
    return pem
  }

  // Claims and revocation, then what `request.user` becomes; a rejection reaches the request as it is.
  async function trusted (request: FastifyRequest, payload: Record<string, unknown>): Promise<boolean> {
    const claims = frozen(checkClaims(payload, claimRules))
    const found = checked.get(request)!
    const token = { sid: claims.sid, jti: claims.jti }
    refuseRevoked(found.issuer!, token)
    const user = formatUser ? Object.freeze(formatUser(claims)) : claims
    users.set(payload, user)
    Object.assign(found, { exp: claims.exp, token, user })
    return true
  }

  await fastify.register(fastifyJwt, {
    ...(options.namespace !== undefined && { namespace: options.namespace, jwtVerify: options.jwtVerify, jwtDecode: options.jwtDecode }),
    ...(options.cookie && { cookie: options.cookie }),
    decoratorName: userProperty,
    // Only a public key source: @fastify/jwt then has no signer at all (a verifier cannot mint tokens).
    secret: { public: keyFor as never },
    decode: { complete: true },
    // fast-jwt checks the algorithm and the signature; token-rules.ts the rest, with reasons.
    verify: {
      algorithms: options.algorithms,
      ignoreExpiration: true,
      ignoreNotBefore: true,
      extractToken: (request: FastifyRequest) => { taken.add(request); return extractToken(request, options.cookie) }
    },
    trusted: trusted as never,
    // `trusted` made it: a throw from formatUser itself could not be answered.
    formatUser: (payload) => users.get(payload) as never
  })

  /** A refusal as the verifier's own error, or undefined for an error that is not about the token. */
  function asVerifierError (err: unknown, request: FastifyRequest): VerifierError | undefined {
    if (isVerifierError(err)) return err
    return taken.has(request) ? fromJwtLibrary(err as { code?: unknown }, checked.has(request)) : undefined
  }

  async function authenticate (request: FastifyRequest): Promise<void> {
    const token = tokenCache && extractToken(request, options.cookie)
    const hit = token && tokenCache!.get(token)
    if (hit) {
      (request as unknown as Record<string, unknown>)[userProperty] = hit
      return
    }
    try {
      await (request as unknown as Record<string, () => Promise<unknown>>)[verifyMethod]!()
    } catch (err) {
      throw asVerifierError(err, request) ?? err
    }
    if (token) {
      const { issuer, kid, pem, exp, token: revocable, user } = checked.get(request) as Checked
      tokenCache!.set(token, {
        user,
        deadline: (exp + options.clockTolerance) * 1000,
        // Dead once its key changes or it is revoked: the next request then takes the whole way and its answer.
        stillValid: () => issuer.keys.current(kid) === pem && stillStands(issuer, revocable)
      })
    }
  }

  // Headers for every refusal, whether from `authenticate`, a guard or a route's own
  // `request.jwtVerify()`; an error @fastify/jwt raised for our token is given our code first.
  fastify.addHook('onError', (request, reply, error: FastifyError, done) => {
    const ours = asVerifierError(error, request)
    if (ours && ours !== error) Object.assign(error, { code: ours.code, statusCode: ours.statusCode, message: ours.message, reason: ours.reason })
    if (ours) {
      if ('retryAfter' in ours) reply.header('retry-after', ours.retryAfter)
      const challenge = bearerChallenge(ours, options.realm)
      if (challenge) reply.header('www-authenticate', challenge)
    }
    done()
  })

  fastify.decorate('authenticate', authenticate)
  const { requireScope, requireRole } = scopeGuards()
  fastify.decorate('requireScope', requireScope)
  fastify.decorate('requireRole', requireRole)
  fastify.decorate('verifier', {
    /** JWKS fetch counts, cache sizes and the revocation feeds' state, for metrics and readiness. */
    stats: () => ({ ...issuers.stats(), tokensCached: tokenCache?.size ?? 0 })
  })
  fastify.addHook('onReady', async () => {
    if (options.cookie && !fastify.hasRequestDecorator('cookies')) throw new TypeError('verifier plugin: option cookie: register @fastify/cookie first')
    issuers.start() // keys warm before the first request
  })
  fastify.addHook('onClose', () => issuers.close())
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
      stats: () => ReturnType<ReturnType<typeof createTrustedIssuers>['stats']> & { tokensCached: number }
    }
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    /** The verified token's claims, frozen (what `formatUser` returns instead, when given). */
    user: VerifiedClaims
  }
}

export default fp(verifierPlugin, { name: 'verifier', fastify: '5.x' })
export * from './errors.js'
export { ALGORITHMS, type Algorithm } from './algorithms.js'
export { VerifierOptionsSchema, type VerifierOptions, type VerifierPluginOptions, type TrustedIssuer } from './options.js'
export type { VerifiedClaims } from './token-rules.js'
export type { AccessTokenClaims } from '../shared/claims.js'
