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
import { bearerChallenge, fromJwtLibrary, isVerifierError, type VerifierError } from './errors.js'
import { checkOptions, trustedIssuers, type VerifierPluginOptions } from './options.js'
import type { RevocableToken } from './revocation-set.js'
import { scopeGuards } from './scopes.js'
import { createTokenCache } from './token-cache.js'
import { checkClaims, checkHeader, extractToken, frozen, type DecodedToken, type VerifiedClaims } from './token-rules.js'
import { createTrustedIssuers, refuseRevoked, stillStands, type TrustedIssuer } from './trusted-issuers.js'

/**
 * What this verifier's checks found for one request: present once its extractToken took the token
 * up; `pem` once the key was found (a library error after that is about the signature, before it
 * about the token's form); the rest once the claims passed, for the token cache.
 */
interface Checked { issuer?: TrustedIssuer, kid?: string, pem?: string, exp?: number, token?: RevocableToken, user?: unknown }

// A request decorator rather than WeakMaps: one property Fastify allocates with each request.
const CHECKED = Symbol('verifier checks')
type CheckedRequest = FastifyRequest & { [CHECKED]: Checked | null }

/** Decorates `fastify.authenticate`, `requireScope`, `requireRole` and `fastify.verifier`; registers @fastify/jwt. */
export async function verifierPlugin (fastify: FastifyInstance, pluginOptions: VerifierPluginOptions) {
  const { formatUser, ...options } = checkOptions(pluginOptions)
  const issuers = createTrustedIssuers(trustedIssuers(options), options, fastify.log.child({ plugin: 'verifier' }))
  const claimRules = { audience: [options.audience].flat(), clockTolerance: options.clockTolerance }
  const tokenCache = options.tokenCacheMax > 0 ? createTokenCache(options.tokenCacheMax, options.tokenCacheTtl) : undefined
  const verifyMethod = options.namespace === undefined ? 'jwtVerify' : options.jwtVerify ?? `${options.namespace}JwtVerify`
  const userProperty = options.decoratorName ?? 'user'
  // formatUser gets only the claims: `trusted` keys the user it made by the claims object.
  const users = new WeakMap<object, unknown>()

  // @fastify/jwt's key callback, in its callback form: a known kid answers in the same tick.
  function keyFor (request: FastifyRequest, decoded: DecodedToken, callback: (err: Error | null, pem?: string) => void): void {
    let issuer: TrustedIssuer
    let kid: string
    let found: string | Promise<string>
    try {
      const header = checkHeader(decoded, options.algorithms, issuers.names)
      issuer = issuers.get(header.iss)
      kid = header.kid
      found = issuer.keys.publicKey(kid, header.alg)
    } catch (err) {
      return callback(err as Error)
    }
    const use = (pem: string) => {
      const state = (request as CheckedRequest)[CHECKED]!
      state.issuer = issuer
      state.kid = kid
      state.pem = pem
      callback(null, pem)
    }
    if (typeof found === 'string') use(found)
    else found.then(use, callback)
  }

  // Claims and revocation, then what `request.user` becomes. A refusal is a rejected promise, which
  // @fastify/jwt answers with; a throw here would surface inside its verify step.
  function trusted (request: FastifyRequest, payload: Record<string, unknown>): true | Promise<never> {
    try {
      const claims = frozen(checkClaims(payload, claimRules))
      const found = (request as CheckedRequest)[CHECKED]!
      const token = { sid: claims.sid, jti: claims.jti }
      refuseRevoked(found.issuer!, token)
      const user = formatUser ? Object.freeze(formatUser(claims)) : claims
      if (formatUser) users.set(payload, user)
      found.exp = claims.exp
      found.token = token
      found.user = user
      return true
    } catch (err) {
      return Promise.reject(err)
    }
  }

  fastify.decorateRequest(CHECKED, null)
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
      extractToken: (request: FastifyRequest) => {
        (request as CheckedRequest)[CHECKED] = {}
        return extractToken(request, options.cookie)
      }
    },
    trusted: trusted as never,
    // `trusted` made it: a throw from formatUser itself could not be answered.
    // Without formatUser, request.user is the claims object `trusted` froze.
    ...(formatUser && { formatUser: (payload: object) => users.get(payload) as never })
  })

  /** A refusal as the verifier's own error, or undefined for an error that is not about the token. */
  function asVerifierError (err: unknown, request: FastifyRequest): VerifierError | undefined {
    if (isVerifierError(err)) return err
    const found = (request as CheckedRequest)[CHECKED]
    return found ? fromJwtLibrary(err as { code?: unknown }, found.pem !== undefined) : undefined
  }

  function remember (token: string, request: FastifyRequest): void {
    const { issuer, kid, pem, exp, token: revocable, user } = (request as CheckedRequest)[CHECKED] as Required<Checked>
    tokenCache!.set(token, {
      user,
      deadline: (exp + options.clockTolerance) * 1000,
      // Dead once its key changes or it is revoked: the next request then takes the whole way and its answer.
      stillValid: () => issuer.keys.current(kid) === pem && stillStands(issuer, revocable)
    })
  }

  /**
   * The onRequest/preHandler hook, in Fastify's callback form (no promise per request); called
   * without `done`, as `await app.authenticate(request, reply)`, it returns a promise.
   */
  function authenticate (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void): Promise<void> | undefined {
    if (!done) return new Promise((resolve, reject) => { authenticate(request, reply, (err) => err ? reject(err) : resolve()) })
    let token: string | undefined
    try {
      token = tokenCache && extractToken(request, options.cookie)
    } catch (err) {
      done(err as Error)
      return
    }
    const hit = token && tokenCache!.get(token)
    if (hit) {
      (request as unknown as Record<string, unknown>)[userProperty] = hit
      done()
      return
    }
    const verify = (request as unknown as Record<string, (options: undefined, callback: (err: Error | null) => void) => void>)[verifyMethod]!
    verify.call(request, undefined, (err) => {
      if (err) return done(asVerifierError(err, request) ?? err)
      if (token) remember(token, request)
      done()
    })
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
    /** onRequest hook: answers 401/503 unless the request carries a valid access token (or, awaited without `done`, rejects). */
    authenticate: (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<void> | undefined
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
