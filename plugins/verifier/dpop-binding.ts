// What DPoP (RFC 9449 §7) adds to a verified access token: its binding. A token bound to a key
// (cnf.jkt) is accepted only with the DPoP scheme and a fresh proof of that key for this very
// request and token, never as Bearer (§7.2: the downgrade); a proof with an unbound token is
// refused too; with `dpop: 'required'` an unbound token is refused outright. The URL a proof must
// name is the configured public URL plus the request's path: never the Host or X-Forwarded-Host
// header, which the client chooses. Runs after the token is verified, and after the token cache,
// so a cached bound token still needs a fresh proof on every request.
import type { FastifyRequest } from 'fastify'
import { createNonces } from './dpop-nonce.js'
import { createProofChecker, normalizedHtus } from './dpop-proof.js'
import { memoryReplayStore, redisReplayStore } from './dpop-replay.js'
import { dpopNonceRequired, dpopProofInvalid, dpopReplayUnavailable, tokenInvalid } from './errors.js'
import type { VerifierOptions } from './options.js'
import { usesDpopScheme, type VerifiedClaims } from './token-rules.js'

export type DpopMode = VerifierOptions['dpop']

/** The mode in force: DPoP needs a public URL, so the default mode without one is off (explicit modes without one are refused at registration). */
export function dpopMode (options: Pick<VerifierOptions, 'dpop' | 'publicUrl'>): DpopMode {
  return options.publicUrl === undefined ? 'off' : options.dpop
}

function replayed (): never {
  throw dpopProofInvalid('dpop_replayed', 'the proof was already used')
}

/** The binding check for these options: nothing to wait for (undefined), a promise (the Redis replay cache), or one of our errors thrown. */
export function createDpopBinding (options: VerifierOptions) {
  const mode = dpopMode(options)
  const base = options.publicUrl?.replace(/\/+$/, '')
  const checkProof = createProofChecker({ algorithms: options.dpopAlgorithms, maxAge: options.dpopMaxAge, clockTolerance: options.clockTolerance })
  const replay = options.dpopReplay === 'memory'
    ? memoryReplayStore(options.dpopReplayMax)
    : redisReplayStore(options.dpopReplay.redis, options.dpopReplay.prefix)
  const normalized = normalizedHtus()
  const nonces = options.dpopNonceSecret === undefined ? undefined : createNonces({ secret: options.dpopNonceSecret })

  /** The URL of `request` as its client calls it: the public URL and the path, without the query. */
  function htuOf (request: FastifyRequest): string | undefined {
    const url = request.raw.url!
    const query = url.indexOf('?')
    const path = query < 0 ? url : url.slice(0, query)
    // An absolute-form request target names a host of the client's choosing: no proof matches it.
    return path.startsWith('/') ? normalized(`${base}${path}`) : undefined
  }

  return {
    mode,
    /** The nonce to send back in DPoP-Nonce (RFC 9449 §9), when nonces are on. */
    nonce: nonces && (() => nonces.current()),
    confirm (request: FastifyRequest, token: string, claims: VerifiedClaims): undefined | Promise<void> {
      const jkt = claims.cnf?.jkt
      if (mode === 'off' || !usesDpopScheme(request)) {
        if (jkt !== undefined) {
          throw tokenInvalid('dpop_bound', mode === 'off'
            ? 'the token is bound to a DPoP key and this service does not take DPoP'
            : 'the token is bound to a DPoP key: send it with the DPoP scheme and a proof')
        }
        if (mode === 'off') return undefined
        if (mode === 'required') throw tokenInvalid('dpop_required', 'this service takes DPoP-bound tokens only')
        if (request.headers.dpop !== undefined) throw tokenInvalid('dpop_unbound', 'a DPoP proof came with a token that is not bound to a key')
        return undefined
      }
      if (jkt === undefined) throw tokenInvalid('dpop_unbound', 'the token is not bound to a DPoP key')
      const proof = checkProof({ header: request.headers.dpop, method: request.method, htu: htuOf(request), accessToken: token })
      if (proof.jkt !== jkt) throw dpopProofInvalid('dpop_wrong_key', 'the proof is signed by another key than the token is bound to')
      if (nonces && !nonces.valid(proof.nonce)) throw dpopNonceRequired(nonces.current())
      const fresh = replay.remember(proof.jkt, proof.jti, proof.replayWindow)
      if (fresh === true) return undefined
      if (fresh === false) replayed()
      return fresh.then((first) => { if (!first) replayed() }, () => { throw dpopReplayUnavailable() })
    }
  }
}
