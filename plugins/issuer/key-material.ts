// One RSA signing key: checked once when loaded, with its RFC 7638 thumbprint as kid and its
// public JWK prepared up front so nothing is converted per request.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { KeyFileInvalidError } from './errors.js'

export const MIN_RSA_BITS = 2048

export interface PublicJwk {
  kty: 'RSA'
  n: string
  e: string
  kid: string
  alg: 'RS256'
  use: 'sig'
}

export interface SigningKey {
  kid: string
  /** PKCS#8 PEM, handed once to the signer of this kid. */
  privatePem: string
  publicJwk: PublicJwk
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
export function rsaThumbprint (n: string, e: string): string {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url')
}

/** Parses a PKCS#8 or PKCS#1 PEM private key; `source` names the file in every error. */
export function parseSigningKey (pem: string | Buffer, source: string): SigningKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem)
  } catch {
    throw new KeyFileInvalidError(source, 'not a PEM private key')
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new KeyFileInvalidError(source, `a ${privateKey.asymmetricKeyType} key, RS256 needs RSA`)
  }
  // Node always reports modulusLength for RSA keys.
  const bits = (privateKey.asymmetricKeyDetails as { modulusLength: number }).modulusLength
  if (bits < MIN_RSA_BITS) {
    throw new KeyFileInvalidError(source, `${bits}-bit RSA, at least ${MIN_RSA_BITS} bits are required`)
  }
  const { n, e } = createPublicKey(privateKey).export({ format: 'jwk' }) as { n: string, e: string }
  const kid = rsaThumbprint(n, e)
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  return { kid, privatePem, publicJwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } }
}

/** A fresh 2048-bit RSA key as PKCS#8 PEM. */
export function generatePrivateKeyPem (modulusLength = MIN_RSA_BITS): string {
  return generateKeyPairSync('rsa', { modulusLength }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
}
