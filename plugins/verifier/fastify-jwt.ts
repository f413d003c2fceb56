// @fastify/jwt, registered for what Fastify users expect of it: `fastify.jwt` (decode, options),
// `request.jwtDecode()`, `reply.jwtSign()` (which refuses: a verifier has no private key), the
// request property the verified token lands in, and a `namespace` to sit beside the app's own
// @fastify/jwt. Its request verify method is not used: it keeps one fast-jwt verifier per key
// string for the life of the process, in a map no one can prune, so every rotation would leak
// one. The verifier decorates its own (verify-request.ts), whose fast-jwt verifiers live and die
// with their keys. @fastify/jwt names its methods after a namespace only; without one, it gets a
// namespace of ours and `fastify.jwt` hands its decorator out as @fastify/jwt would without one.
import type { FastifyInstance } from 'fastify'
import fastifyJwt, { type FastifyJWTOptions, type JWT } from '@fastify/jwt'
import { extractToken, type DecodedToken } from './token-rules.js'
import { dpopMode } from './dpop-binding.js'
import type { VerifierOptions } from './options.js'

const OWN_NAMESPACE = '@fastify-ssot/verifier'

/** The request and reply method names, as @fastify/jwt would name them with these options. */
export function methodNames ({ namespace, jwtVerify, jwtDecode }: Pick<VerifierOptions, 'namespace' | 'jwtVerify' | 'jwtDecode'>) {
  if (namespace === undefined) return { verify: 'jwtVerify', decode: 'jwtDecode', sign: 'jwtSign' }
  return { verify: jwtVerify ?? `${namespace}JwtVerify`, decode: jwtDecode ?? `${namespace}JwtDecode`, sign: `${namespace}JwtSign` }
}

/** The key source @fastify/jwt is given: `fastify.jwt.verify()` throws, saying what to use instead. */
function noKeyHere (): never {
  throw new TypeError('verifier plugin: fastify.jwt.verify() cannot check these tokens; use request.jwtVerify() or app.authenticate')
}

/** Registers @fastify/jwt as described above; resolves with its decoder of complete tokens. */
export async function registerFastifyJwt (fastify: FastifyInstance, options: VerifierOptions, userProperty: string): Promise<(token: string) => DecodedToken> {
  const names = methodNames(options)
  if (options.namespace === undefined) {
    const holder: Record<string, JWT> = Object.create(null)
    fastify.decorate('jwt', { getter: () => (holder[OWN_NAMESPACE] ?? holder) as never })
  }
  const namespace = options.namespace ?? OWN_NAMESPACE
  await fastify.register(fastifyJwt, {
    namespace,
    // @fastify/jwt's own verify method, under a name no one writes.
    jwtVerify: `${namespace} unused jwtVerify`,
    jwtDecode: names.decode,
    jwtSign: names.sign,
    decoratorName: userProperty,
    // Only a public key source: @fastify/jwt then has no signer at all (a verifier cannot mint tokens).
    secret: { public: noKeyHere },
    decode: { complete: true },
    verify: { extractToken: (request) => extractToken(request, options.cookie, dpopMode(options) !== 'off') },
    ...(options.cookie && { cookie: options.cookie })
  } satisfies FastifyJWTOptions)
  // @fastify/jwt decorates the user property only when it decorates `fastify.jwt` itself.
  if (!fastify.hasRequestDecorator(userProperty)) fastify.decorateRequest(userProperty, null)
  const decorator = (options.namespace === undefined ? fastify.jwt : (fastify.jwt as unknown as Record<string, JWT>)[namespace]) as JWT
  return (token) => decorator.decode<DecodedToken>(token)!
}
