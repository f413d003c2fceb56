// The compact JWS of an access token (RFC 7515 §7.1): decoded once, its signature checked with
// one node:crypto call. fast-jwt did this before; it decoded each token a second time, checked the
// signature through a Verify stream and ran generic claim validators. Measured in a loop on the
// bench machine, beyond a bare kid lookup and crypto.verify (29-32 µs): fast-jwt's path added
// 9-15 µs a token, this one adds 5 (the claim checks included).
// The other checks are in token-checks.ts; test/verifier/tokens.test.ts sends each kind of bad
// token, signed by fast-jwt or built by hand.
import { constants, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'

export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const
export type Algorithm = typeof ALGORITHMS[number]

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
// JWS carries an ECDSA signature as R || S (RFC 7518 §3.4), not DER.
const ECDSA = { dsaEncoding: 'ieee-p1363' } as const

type VerifyOptions = Omit<VerifyKeyObjectInput, 'key'>

const SCHEMES: Record<Algorithm, { keyType: 'rsa' | 'ec', curve?: string, hash: string, options: VerifyOptions }> = {
  RS256: { keyType: 'rsa', hash: 'sha256', options: {} },
  RS384: { keyType: 'rsa', hash: 'sha384', options: {} },
  RS512: { keyType: 'rsa', hash: 'sha512', options: {} },
  PS256: { keyType: 'rsa', hash: 'sha256', options: PSS },
  PS384: { keyType: 'rsa', hash: 'sha384', options: PSS },
  PS512: { keyType: 'rsa', hash: 'sha512', options: PSS },
  ES256: { keyType: 'ec', curve: 'prime256v1', hash: 'sha256', options: ECDSA },
  ES384: { keyType: 'ec', curve: 'secp384r1', hash: 'sha384', options: ECDSA },
  ES512: { keyType: 'ec', curve: 'secp521r1', hash: 'sha512', options: ECDSA }
}

/** How one key checks one algorithm's signatures: prepared when the key is imported. */
export interface SignatureCheck {
  hash: string
  key: VerifyKeyObjectInput
}

/**
 * The checks `key` can make, one for each of `algorithms` made for its type (and curve): an
 * algorithm of another key family has no check, so it can never be tried with this key.
 */
export function signatureChecks (key: KeyObject, algorithms: readonly Algorithm[]): Map<Algorithm, SignatureCheck> {
  const checks = new Map<Algorithm, SignatureCheck>()
  for (const alg of algorithms) {
    const { keyType, curve, hash, options } = SCHEMES[alg]
    if (key.asymmetricKeyType === keyType && (curve === undefined || key.asymmetricKeyDetails!.namedCurve === curve)) {
      checks.set(alg, { hash, key: { key, ...options } })
    }
  }
  return checks
}

export interface Jws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  /** `header.payload` as sent: what the signature covers. */
  signingInput: string
  signature: Buffer
}

// base64url without padding (RFC 7515 §2). Buffer.from would silently skip any other character,
// so the same token could be sent in many spellings.
const SEGMENT = /^[A-Za-z0-9_-]+$/

function jsonObject (segment: string): Record<string, unknown> | undefined {
  if (!SEGMENT.test(segment)) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString())
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** The parts of `token`, or undefined unless it has three base64url parts, the first two JSON objects. */
export function decodeJws (token: string): Jws | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  // The signature must be the one spelling of its bytes: besides foreign characters, the spare
  // bits of its last character would otherwise give every token up to 16 accepted spellings.
  // (Empty is allowed here: alg "none" is refused by the algorithm check, which names the reason.)
  const signature = Buffer.from(parts[2]!, 'base64url')
  if (signature.toString('base64url') !== parts[2]) return undefined
  const header = jsonObject(parts[0]!)
  const payload = jsonObject(parts[1]!)
  if (!header || !payload) return undefined
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature }
}

/** Whether `jws` carries a valid signature for `check` (its key and algorithm). */
export function signatureMatches (check: SignatureCheck, jws: Jws): boolean {
  return verify(check.hash, Buffer.from(jws.signingInput), check.key, jws.signature)
}
