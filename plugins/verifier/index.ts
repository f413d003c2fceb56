// The verifier plugin: trusts the access tokens of configured issuers by checking them locally
// against each issuer's published JWKS. get-jwks resolves each token's key by kid and fast-jwt
// checks the signature; @fastify/jwt gives the decorators Fastify users expect (fastify-jwt.ts);
// the layer that hardens them is ours: the key source (issuer-keys.ts), the fetch guard
// (key-agent.ts), the checks around the signature (token-rules.ts) and their order
// (verify-request.ts). It holds no private key and cannot mint tokens.
// @fastify/jwt's request and instance decorations come with ours, in the emitted .d.ts too:
/// <reference types="@fastify/jwt" preserve="true" />
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { challenge, isVerifierError } from './errors.js'
import { methodNames, registerFastifyJwt } from './fastify-jwt.js'
import { checkOptions, trustedIssuers, type VerifierOptions, type VerifierPluginOptions } from './options.js'
import { scopeGuards } from './scopes.js'
import { usesDpopScheme, type VerifiedClaims } from './token-rules.js'
import { createTrustedIssuers } from './trusted-issuers.js'
import { createRequestVerifier, type Verified } from './verify-request.js'

// What the request's token was verified as: a request decorator rather than a WeakMap, one
// property Fastify allocates with each request. The guards read the claims from here.
const VERIFIED = Symbol('verified access token')
type VerifiedRequest = FastifyRequest & { [VERIFIED]: Verified | null } & Record<string, unknown>
type Callback = (err: Error | null, user?: unknown) => void

/** Refuses, with the fix, a registration whose decorators the app already has. */
function refuseCollisions (fastify: FastifyInstance, options: VerifierOptions): void {
  if (options.namespace === undefined && fastify.hasDecorator('jwt')) {
    throw new TypeError('verifier plugin: this app already has fastify.jwt (its own @fastify/jwt?): register the verifier with a namespace, ' +
      'e.g. { namespace: \'ssot\' }, and both work side by side (request.ssotJwtVerify(), fastify.jwt.ssot)')
  }
  if (fastify.hasDecorator('authenticate')) {
    throw new TypeError('verifier plugin: this app already has fastify.authenticate (the @fastify/jwt README\'s recipe?): ' +
      'the verifier decorates its own; remove or rename the app\'s')
  }
}

/** Decorates `fastify.authenticate`, `requireScope`, `requireRole`, `fastify.verifier` and the request's verify method; registers @fastify/jwt. */
export async function verifierPlugin (fastify: FastifyInstance, pluginOptions: VerifierPluginOptions) {
  const { formatUser, ...options } = checkOptions(pluginOptions)
  refuseCollisions(fastify, options)
  const issuers = createTrustedIssuers(trustedIssuers(options), options, fastify.log.child({ plugin: 'verifier' }))
  const userProperty = options.decoratorName ?? 'user'
  const decode = await registerFastifyJwt(fastify, options, userProperty)
  const verifier = createRequestVerifier(issuers, options, decode, formatUser)
  const challengeRules = { realm: options.realm, dpop: verifier.dpopMode, dpopAlgorithms: options.dpopAlgorithms }

  /** Hands the route what `request` was verified as: the user property, and the claims for the guards. */
  function settle (request: FastifyRequest, verified: Verified): Verified {
    (request as VerifiedRequest)[VERIFIED] = verified;
    (request as VerifiedRequest)[userProperty] = verified.user
    return verified
  }

  /** Verifies `request`, then calls back: with no error (and what it was verified as), or one. */
  function verifyThen (request: FastifyRequest, callback: (err: Error | null, verified?: Verified) => void): void {
    let result: Verified | Promise<Verified>
    try {
      result = verifier.verify(request)
    } catch (err) {
      return callback(err as Error)
    }
    if (result instanceof Promise) result.then((verified) => callback(null, settle(request, verified)), callback)
    else callback(null, settle(request, result))
  }

  /**
   * The onRequest/preHandler hook, in Fastify's callback form: on the path every request takes (a
   * known key) no promise and no closure. Called without `done`, as `await app.authenticate(request, reply)`, it returns a promise.
   */
  function authenticate (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void): Promise<void> | undefined {
    if (!done) return new Promise((resolve, reject) => { verifyThen(request, (err) => err ? reject(err) : resolve()) })
    let result: Verified | Promise<Verified>
    try {
      result = verifier.verify(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (result instanceof Promise) result.then((verified) => { settle(request, verified); done() }, done)
    else {
      settle(request, result)
      done()
    }
  }

  /** request.jwtVerify() (or the namespace's name): @fastify/jwt's call forms, the verifier's checks; resolves with the user. */
  function jwtVerify (this: FastifyRequest, options?: unknown, callback?: Callback): Promise<unknown> | undefined {
    const next = typeof options === 'function' ? options as Callback : callback
    if (typeof options === 'object' && options !== null && Object.keys(options).length > 0) {
      throw new TypeError('verifier plugin: jwtVerify() takes no options: the verifier\'s checks are set when it is registered')
    }
    if (!next) return new Promise((resolve, reject) => { verifyThen(this, (err, verified) => err ? reject(err) : resolve(verified!.user)) })
    verifyThen(this, (err, verified) => next(err, verified?.user))
  }

  /** The claims the request's token was verified with, verifying it first if nothing did yet. */
  function claimsOf (request: FastifyRequest): VerifiedClaims | Promise<VerifiedClaims> {
    const verified = (request as VerifiedRequest)[VERIFIED]
    if (verified) return verified.claims
    return new Promise((resolve, reject) => { verifyThen(request, (err, found) => err ? reject(err) : resolve(found!.claims)) })
  }

  // Headers for every refusal, whether from `authenticate`, a guard or a route's own `request.jwtVerify()`.
  fastify.addHook('onError', (request, reply, error: FastifyError, done) => {
    if (isVerifierError(error)) {
      if ('retryAfter' in error) reply.header('retry-after', error.retryAfter)
      if ('nonce' in error) reply.header('dpop-nonce', error.nonce).header('cache-control', 'no-store')
      const value = challenge(error, challengeRules, usesDpopScheme(request))
      if (value) reply.header('www-authenticate', value)
    }
    done()
  })

  // RFC 9449 §9: a fresh nonce on each answer to a DPoP request, so the client's next proof has it.
  const nonce = verifier.dpopNonce
  if (nonce) {
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (usesDpopScheme(request) && !reply.hasHeader('dpop-nonce')) reply.header('dpop-nonce', nonce()).header('cache-control', 'no-store')
      done(null, payload)
    })
  }

  fastify.decorateRequest(VERIFIED, null)
  fastify.decorateRequest(methodNames(options).verify, jwtVerify)
  fastify.decorate('authenticate', authenticate)
  const { requireScope, requireRole } = scopeGuards(claimsOf)
  fastify.decorate('requireScope', requireScope)
  fastify.decorate('requireRole', requireRole)
  fastify.decorate('verifier', {
    /** JWKS fetch counts, cache sizes and the revocation feeds' state, for metrics and readiness. */
    stats: () => ({ ...issuers.stats(), tokensCached: verifier.tokensCached })
  })
  fastify.addHook('onReady', async () => {
    if (options.cookie && !fastify.hasRequestDecorator('cookies')) throw new TypeError('verifier plugin: option cookie: register @fastify/cookie first')
    issuers.start() // keys warm before the first request
  })
  fastify.addHook('onClose', () => issuers.close())
}

// The verifier's own decorations. What a route is handed (request.user, or the decoratorName
// property) is typed by the app: see the README's TypeScript section.
declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: answers 401/503 unless the request carries a valid access token (or, awaited without `done`, rejects). */
    authenticate: (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<void> | undefined
    /** A preHandler: 403 insufficient_scope unless the token has every scope (verifying it first if need be). */
    requireScope: ReturnType<typeof scopeGuards>['requireScope']
    /** The same for the token's `roles`: any one of them. */
    requireRole: ReturnType<typeof scopeGuards>['requireRole']
    verifier: {
      stats: () => ReturnType<ReturnType<typeof createTrustedIssuers>['stats']> & { tokensCached: number }
    }
  }
}

/**
 * The type of the verify method the verifier decorates under a namespace
 * (`request.<namespace>JwtVerify()`, or `jwtVerify`'s name): resolves with what the route is handed.
 */
export interface VerifyMethod<User = VerifiedClaims> {
  (): Promise<User>
  (callback: (err: Error | null, user?: User) => void): void
}

export default fp(verifierPlugin, { name: 'verifier', fastify: '5.x' })
export * from './errors.js'
export { ALGORITHMS, type Algorithm } from './algorithms.js'
export { DPOP_ALGORITHMS, type DpopAlgorithm } from './dpop-proof.js'
export type { RedisLike } from './dpop-replay.js'
export { VerifierOptionsSchema, type VerifierOptions, type VerifierPluginOptions, type TrustedIssuer } from './options.js'
export type { VerifiedClaims } from './token-rules.js'
export type { AccessTokenClaims } from '../shared/claims.js'
