// An ECDSA signature (r, s) verifies as well with (r, n - s): each ES token would have a second
// spelling anyone can make from it. The verifier accepts one spelling of each token (see
// token-rules.ts), so for ES algorithms only the low-S form, s <= n / 2, where n is the order of
// the curve (SEC 2 §2.4.2, 2.5.1, 2.6.1). Issuers whose library does not produce it (many do not)
// need to normalise s before encoding (s := n - s when s > n / 2).
import type { Algorithm } from './algorithms.js'

const HALF_ORDERS: Partial<Record<Algorithm, { size: number, half: bigint }>> = {
  ES256: curve(32, 'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551'),
  ES384: curve(48, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973'),
  ES512: curve(66, '1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409')
}

function curve (size: number, order: string) {
  return { size, half: BigInt(`0x${order}`) / 2n }
}

/** Whether `signature` (base64url, JWS form r || s) is an ECDSA signature of `alg` in its high-S form. */
export function highS (alg: Algorithm, signature: string): boolean {
  const curve = HALF_ORDERS[alg]
  if (curve === undefined) return false
  const bytes = Buffer.from(signature, 'base64url')
  // A signature of another length is fast-jwt's to refuse.
  if (bytes.length !== 2 * curve.size) return false
  return BigInt(`0x${bytes.subarray(curve.size).toString('hex')}`) > curve.half
}
