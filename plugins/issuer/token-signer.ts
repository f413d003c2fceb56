// Signs RFC 9068 access tokens with the key ring's active key. The RS256 signature runs on libuv's
// thread pool (node:crypto's sign with a callback) instead of the event loop: at up to 1 ms a
// signature on these machines, signing on the event loop kept JWKS and token requests waiting
// behind every login (npm run bench: "JWKS probe, during login"). fast-jwt only signs
// synchronously, so the compact JWS (RFC 7515 §7.1) is put together here: two base64url JSON parts
// and the signature. The tests check what this signs with jose, another JWT library.
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
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

interface SigningKey { kid: string, header: string, privateKey: KeyObject }

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

// With a callback, node:crypto signs on the thread pool.
const signOnThreadPool = promisify(sign) as (algorithm: string, data: Buffer, key: KeyObject) => Promise<Buffer>

/** Returns a signer that imports the active key once per kid (the PEM is parsed once). */
export function createTokenSigner (keyRing: KeyRing, options: TokenSignerOptions) {
  // Only the active key is kept: after a rotation the old one is dropped, so rotating forever
  // never grows this cache.
  let cached: SigningKey | undefined

  function signingKey (kid: string, pem: string): SigningKey {
    if (cached?.kid !== kid) {
      cached = { kid, header: base64url({ alg: 'RS256', typ: ACCESS_TOKEN_TYPE, kid }), privateKey: createPrivateKey(pem) }
    }
    return cached
  }

  return {
    /** Signs an access token for `subject` (a user or a client) with the active key. */
    async sign ({ aud, ...subject }: TokenSubject): Promise<SignedAccessToken> {
      const { kid, privatePem } = keyRing.activeKey()
      const key = signingKey(kid, privatePem)
      const iat = Math.floor(Date.now() / 1000)
      // The issuer's own claims come last: a subject can never set iss, iat, exp or jti.
      const claims = { ...subject, aud: aud ?? options.audience, iss: options.issuer, iat, exp: iat + options.accessTokenTtl, jti: randomUUID() }
      const input = `${key.header}.${base64url(claims)}`
      const signature = await signOnThreadPool('sha256', Buffer.from(input), key.privateKey)
      return { accessToken: `${input}.${signature.toString('base64url')}`, expiresIn: options.accessTokenTtl }
    },

    /**
     * Signs an OpenID Connect ID token (header typ JWT) with the same active key: `claims` (sub,
     * aud, nonce, …) and the issuer's iss, iat and exp (`ttl` seconds from now).
     */
    async signIdToken (claims: Record<string, unknown>, ttl: number): Promise<string> {
      const { kid, privatePem } = keyRing.activeKey()
      const key = signingKey(kid, privatePem)
      const iat = Math.floor(Date.now() / 1000)
      const input = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${base64url({ ...claims, iss: options.issuer, iat, exp: iat + ttl })}`
      const signature = await signOnThreadPool('sha256', Buffer.from(input), key.privateKey)
      return `${input}.${signature.toString('base64url')}`
    }
  }
}
