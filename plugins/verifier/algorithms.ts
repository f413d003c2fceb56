// The asymmetric JWS algorithms a verifier may allow (RFC 7518 §3), and the key each one needs:
// RFC 8725 §3.1 has a key used only with algorithms made for its type (and curve).
import type { KeyObject } from 'node:crypto'

export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const
export type Algorithm = typeof ALGORITHMS[number]

const CURVES: Partial<Record<Algorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }

/** Whether `key` is of the type (and curve) `alg` is made for. */
export function suits (alg: Algorithm, key: KeyObject): boolean {
  if (alg.startsWith('ES')) return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg]
  return key.asymmetricKeyType === 'rsa'
}
