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

/** Returns a signer whose fast-jwt signer per kid is built once (the PEM is parsed once). */
export function createTokenSigner (keyRing: KeyRing, options: TokenSignerOptions) {
  const signers = new Map<string, SignFunction>()

  function signerFor (kid: string, pem: string): SignFunction {
    let signer = signers.get(kid)
    if (!signer) {
      signer = createSigner({
        key: pem,
        algorithm: 'RS256',
        kid,
        header: { alg: 'RS256', typ: ACCESS_TOKEN_TYPE },
        iss: options.issuer,
        aud: options.audience,
        expiresIn: options.accessTokenTtl * 1000
      })
      signers.set(kid, signer)
    }
    return signer
  }

  return {
    /** Signs an access token for `subject` (a user or a client). */
    sign (subject: TokenSubject): SignedAccessToken {
      const { kid, privatePem } = keyRing.activeKey()
      const accessToken = signerFor(kid, privatePem)({ ...subject, jti: randomUUID() })
      return { accessToken, expiresIn: options.accessTokenTtl }
    }
  }
}
