// Which JWKs of a fetched set may verify tokens, with which algorithms, and their public key as
// PEM (what @fastify/jwt hands fast-jwt; converted once per key, never per request).
// A JWK is refused, and the refusal named for the log, when it carries private members (a
// publisher leaking its private key: we will not verify with it), `key_ops` without "verify",
// `use` other than "sig", an RSA modulus under 2048 bits (RFC 7518 §3.3), a kid that another
// JWK of the set also has (which one would be meant?), or no allowed algorithm suited to it.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { suits, type Algorithm } from './algorithms.js'

/** A kid we would ever look up: RFC 7638 thumbprints and common issuer formats; junk never reaches a fetch. */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

export interface UsableKey {
  kid: string
  jwk: JsonWebKey & { kid: string }
  /** SPKI PEM: @fastify/jwt keeps one fast-jwt verifier per key string, so the same string each time. */
  pem: string
  /** Allowed algorithms suited to the key (only the JWK's own `alg`, when it names one). */
  algorithms: Algorithm[]
  /** The public members: the same kid with another key is another key. */
  fingerprint: string
}

/** A JWK Set that cannot be used at all. */
export class KeySetError extends Error {}

export interface KeySetRules {
  algorithms: readonly Algorithm[]
  keyCacheMax: number
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const MIN_RSA_BITS = 2048

function importPublic (jwk: Record<string, unknown>): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    return undefined
  }
}

/** The key, or why it is refused. */
function check (jwk: Record<string, unknown>, rules: KeySetRules): UsableKey | string {
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return 'it carries private key members'
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return 'its key_ops do not include "verify"'
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'its use is not "sig"'
  const key = importPublic(jwk)
  if (!key) return 'it is not a public key node:crypto can import'
  if ((key.asymmetricKeyDetails?.modulusLength ?? MIN_RSA_BITS) < MIN_RSA_BITS) return `RSA keys need ${MIN_RSA_BITS} bits or more`
  const algorithms = rules.algorithms.filter((alg) => (jwk.alg === undefined || jwk.alg === alg) && suits(alg, key))
  if (algorithms.length === 0) return 'no allowed algorithm suits it'
  const kid = jwk.kid as string
  const fingerprint = JSON.stringify([jwk.kty, jwk.n, jwk.e, jwk.crv, jwk.x, jwk.y, jwk.alg, jwk.use, jwk.key_ops])
  return { kid, jwk: jwk as UsableKey['jwk'], pem: key.export({ type: 'spki', format: 'pem' }) as string, algorithms, fingerprint }
}

/** The usable keys of a JWK Set body by kid, and a sentence for each JWK refused. */
export function usableKeys (body: unknown, rules: KeySetRules): { keys: Map<string, UsableKey>, refused: string[] } {
  const list = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list)) throw new KeySetError('the answer is not a JWK Set')
  if (list.length > rules.keyCacheMax) throw new KeySetError(`the JWK Set has ${list.length} keys, more than keyCacheMax (${rules.keyCacheMax})`)
  const jwks = list.filter((jwk): jwk is Record<string, unknown> => typeof jwk === 'object' && jwk !== null)
  const kids = jwks.map((jwk) => jwk.kid)
  const keys = new Map<string, UsableKey>()
  const refused: string[] = []
  for (const jwk of jwks) {
    const name = typeof jwk.kid === 'string' ? jwk.kid.slice(0, 128) : String(jwk.kid)
    const outcome = typeof jwk.kid !== 'string' || !KID_PATTERN.test(jwk.kid)
      ? 'its kid is missing or malformed'
      : kids.indexOf(jwk.kid) !== kids.lastIndexOf(jwk.kid) ? 'another JWK of the set has the same kid' : check(jwk, rules)
    if (typeof outcome === 'string') refused.push(`kid ${JSON.stringify(name)}: ${outcome}`)
    else keys.set(outcome.kid, outcome)
  }
  if (keys.size === 0) throw new KeySetError(`the JWK Set has no usable key${refused.length > 0 ? ` (${refused.join('; ')})` : ''}`)
  return { keys, refused }
}
