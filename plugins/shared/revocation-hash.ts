// The revocation feed's one wire format, which the auth service writes and every verifier
// compares: base64url (no padding) SHA-256 of the UTF-8 text `sid:<sid>` or `jti:<jti>`, so the
// feed names no user or client and can be as public as the JWKS.
import { hash } from 'node:crypto'

/** The claims a revocation names: a session (`sid`) or one access token (`jti`). */
export type RevokedClaim = 'sid' | 'jti'

/** The digest of one claim value. */
export function revocationHash (claim: RevokedClaim, value: string): string {
  // The one-shot hash: about half the cost of a Hash object, on every request while a revocation is live.
  return hash('sha256', `${claim}:${value}`, 'base64url')
}
