// Signs RFC 9068 access tokens with the key ring's active key.
import { randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { ACCESS_TOKEN_TYPE, type TokenSubject } from '../shared/claims.js'
import type { KeyRing } from './key-ring.js'

export interface TokenSignerOptions {
  issuer: string
  audience: string
  /** Lifetime of an access token, in seconds. */
  accessTokenTtl: number
}

export interface SignedAccessToken {
  accessToken: string
  expiresIn: number
}

type SignFunction = (payload: Record<string, unknown>) => string

/** Returns a signer whose fast-jwt signer for the active kid is built once (the PEM is parsed once). */
export function createTokenSigner (keyRing: KeyRing, options: TokenSignerOptions) {
  // Only the active key's signer is kept: after a rotation the old one is dropped, so rotating
  // forever never grows this cache.
  let cached: { kid: string, sign: SignFunction } | undefined

  function signerFor (kid: string, pem: string): SignFunction {
    if (cached?.kid !== kid) {
      cached = {
        kid,
        sign: createSigner({
          key: pem,
          algorithm: 'RS256',
          kid,
          header: { alg: 'RS256', typ: ACCESS_TOKEN_TYPE },
          iss: options.issuer,
          expiresIn: options.accessTokenTtl * 1000
        })
      }
    }
    return cached.sign
  }

  return {
    /** Signs an access token for `subject` (a user or a client) with the active key. */
    sign ({ aud, ...subject }: TokenSubject): SignedAccessToken {
      const { kid, privatePem } = keyRing.activeKey()
      const accessToken = signerFor(kid, privatePem)({ ...subject, aud: aud ?? options.audience, jti: randomUUID() })
      return { accessToken, expiresIn: options.accessTokenTtl }
    }
  }
}
