// DPoP at the token-issuing routes (RFC 9449 §5): `fastify.dpopBinding(request, reply, client)`
// is the one call every grant makes before it issues tokens. It checks the request's DPoP proof, if
// any, with the verifier package's checker (the same rules as every resource server), with the
// issuer URL plus the route's path as htu (never the Host header), refuses a replayed jti (in this
// process, or in Redis shared by the replicas), and, when server nonces are on, a proof without a
// fresh one. It resolves with the key's thumbprint (the tokens' cnf.jkt), or undefined when the
// request has no proof and the client may do without.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { createNonces } from '../../plugins/verifier/dpop-nonce.js'
import { createProofChecker, DPOP_ALGORITHMS, normalizeHtu } from '../../plugins/verifier/dpop-proof.js'
import { memoryReplayStore, redisReplayStore, type ReplayStore } from '../../plugins/verifier/dpop-replay.js'
import { DpopReplayUnavailableError, InvalidDpopProofError, UseDpopNonceError } from './errors.js'
import { throttledWarning } from '../shared/throttled-warning.js'

export interface DpopOptions {
  /** The issuer URL: the public base of every htu. */
  issuer: string
  /** Seconds a proof is accepted after its iat. */
  maxAge: number
  /** Unset: no nonces. Set: every proof must carry a fresh server nonce (stateless, the same on every replica with this secret). */
  nonceSecret?: string
  /** Redis for the replay cache shared by replicas; unset: in this process. */
  redisUrl?: string
}

/** What a grant needs to know of its client: whether it must send a proof. */
export interface DpopClient {
  dpop_required?: number
}

export const DPOP_CLOCK_TOLERANCE = 5
const REPLAY_MAX = 100_000
const REDIS_PREFIX = 'ssot:dpop:'

function createDpopBinding (fastify: FastifyInstance, options: DpopOptions) {
  const base = options.issuer.replace(/\/+$/, '')
  const checkProof = createProofChecker({ algorithms: DPOP_ALGORITHMS, maxAge: options.maxAge, clockTolerance: DPOP_CLOCK_TOLERANCE })
  const nonces = options.nonceSecret === undefined ? undefined : createNonces({ secret: options.nonceSecret })
  let replay: ReplayStore = memoryReplayStore(REPLAY_MAX)
  if (options.redisUrl) {
    const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
    redis.on('error', throttledWarning(fastify.log, 'Redis (DPoP replay cache) unreachable; token requests with a DPoP proof get 503 until it is back'))
    fastify.addHook('onClose', async () => { redis.disconnect() })
    replay = redisReplayStore(redis, REDIS_PREFIX)
  }

  function refused (err: unknown): never {
    throw new InvalidDpopProofError((err as Error).message.replace(/^The DPoP proof is invalid: /, ''))
  }

  /**
   * The thumbprint of the request's DPoP key, or undefined without a proof (when `client` may do
   * without). Throws InvalidDpopProofError (400 invalid_dpop_proof), UseDpopNonceError (400
   * use_dpop_nonce, with DPoP-Nonce set on `reply`), or DpopReplayUnavailableError (503).
   */
  return async function dpopBinding (request: FastifyRequest, reply: FastifyReply, client?: DpopClient): Promise<string | undefined> {
    if (request.headers.dpop === undefined) {
      if (client?.dpop_required) throw new InvalidDpopProofError('this client must send a DPoP proof with every token request')
      return undefined
    }
    let proof
    try {
      proof = checkProof({ header: request.headers.dpop, method: request.method, htu: normalizeHtu(`${base}${request.routeOptions.url}`) })
    } catch (err) {
      refused(err)
    }
    if (nonces) {
      // RFC 9449 §8: the next nonce goes with every answer to a DPoP request, refusals included.
      reply.header('dpop-nonce', nonces.current())
      if (!nonces.valid(proof.nonce)) throw new UseDpopNonceError()
    }
    let first: boolean
    try {
      first = await replay.remember(proof.jkt, proof.jti, proof.replayWindow)
    } catch {
      throw new DpopReplayUnavailableError()
    }
    if (!first) throw new InvalidDpopProofError('the proof was already used')
    return proof.jkt
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Checks the request's DPoP proof for a token-issuing route: the key's thumbprint (cnf.jkt), or undefined without a proof (see dpop.ts). */
    dpopBinding: ReturnType<typeof createDpopBinding>
  }
}

export default fp(async (fastify: FastifyInstance, options: DpopOptions) => {
  fastify.decorate('dpopBinding', createDpopBinding(fastify, options))
}, { name: 'dpop', fastify: '5.x' })
