// Which JWKs of a fetched set may verify tokens, with which one algorithm, and the fast-jwt
// verifier of each (made once per key, dropped with it: @fastify/jwt's own verifiers live in a map
// no one can prune, one per key string for the life of the process).
// A JWK is refused, and the refusal named for the log, when it carries private members (a
// publisher leaking its private key: we will not verify with it), `key_ops` without "verify",
// `use` other than "sig", an RSA modulus under 2048 bits (RFC 7518 §3.3), a kid that another
// JWK of the set also has (which one would be meant?), or no allowed algorithm suited to it.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import { suits, type Algorithm } from './algorithms.js'

/** A kid we would ever look up: RFC 7638 thumbprints and common issuer formats; junk never reaches a fetch. */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

/** A published JWK as the verifier reads it (only the members it looks at are named). */
export interface PublishedJwk {
  kid: string
  kty?: unknown
  alg?: unknown
  [member: string]: unknown
}

export interface UsableKey {
  kid: string
  jwk: PublishedJwk
  /** RFC 8725 §3.1, one key for one algorithm: the JWK's `alg`, else the first allowed one suited to the key. */
  algorithm: Algorithm
  /** fast-jwt's check of a token's algorithm and signature with this key; returns the payload. */
  verify: (token: string) => Record<string, unknown>
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

function importPublic (jwk: PublishedJwk): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    return undefined
  }
}

function fingerprintOf (jwk: PublishedJwk): string {
  return JSON.stringify([jwk.kty, jwk.n, jwk.e, jwk.crv, jwk.x, jwk.y, jwk.alg, jwk.use, jwk.key_ops])
}

/** The one algorithm `jwk` verifies: its own `alg` if allowed and suited, else the first allowed one suited to it. */
function algorithmOf (jwk: PublishedJwk, key: KeyObject, allowed: readonly Algorithm[]): Algorithm | undefined {
  return allowed.find((alg) => (jwk.alg === undefined || jwk.alg === alg) && suits(alg, key))
}

/** The key, or why it is refused. */
function check (jwk: PublishedJwk, rules: KeySetRules): UsableKey | string {
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return 'it carries private key members'
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return 'its key_ops do not include "verify"'
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'its use is not "sig"'
  const key = importPublic(jwk)
  if (!key) return 'it is not a public key node:crypto can import'
  if ((key.asymmetricKeyDetails?.modulusLength ?? MIN_RSA_BITS) < MIN_RSA_BITS) return `RSA keys need ${MIN_RSA_BITS} bits or more`
  const algorithm = algorithmOf(jwk, key, rules.algorithms)
  if (algorithm === undefined) return 'no allowed algorithm suits it'
  // Times and claims are checked by token-rules.ts, with their reasons.
  const verify = createVerifier({ key: key.export({ type: 'spki', format: 'pem' }) as string, algorithms: [algorithm], ignoreExpiration: true, ignoreNotBefore: true })
  return { kid: jwk.kid, jwk, algorithm, verify: verify as UsableKey['verify'], fingerprint: fingerprintOf(jwk) }
}

/**
 * The usable keys of a JWK Set body by kid, and a sentence for each JWK refused. A key `known`
 * already, unchanged, is kept as it is (with its verifier).
 */
export function usableKeys (body: unknown, rules: KeySetRules, known: ReadonlyMap<string, UsableKey>): { keys: Map<string, UsableKey>, refused: string[] } {
  const list = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list)) throw new KeySetError('the answer is not a JWK Set')
  if (list.length > rules.keyCacheMax) throw new KeySetError(`the JWK Set has ${list.length} keys, more than keyCacheMax (${rules.keyCacheMax})`)
  const jwks = list.filter((jwk): jwk is PublishedJwk => typeof jwk === 'object' && jwk !== null)
  const kids = jwks.map((jwk) => jwk.kid)
  const keys = new Map<string, UsableKey>()
  const refused: string[] = []
  for (const jwk of jwks) {
    const name = typeof jwk.kid === 'string' ? jwk.kid.slice(0, 128) : String(jwk.kid)
    const outcome = typeof jwk.kid !== 'string' || !KID_PATTERN.test(jwk.kid)
      ? 'its kid is missing or malformed'
      : kids.indexOf(jwk.kid) !== kids.lastIndexOf(jwk.kid) ? 'another JWK of the set has the same kid' : keptOrChecked(jwk, rules, known)
    if (typeof outcome === 'string') refused.push(`kid ${JSON.stringify(name)}: ${outcome}`)
    else keys.set(outcome.kid, outcome)
  }
  if (keys.size === 0) throw new KeySetError(`the JWK Set has no usable key${refused.length > 0 ? ` (${refused.join('; ')})` : ''}`)
  return { keys, refused }
}

function keptOrChecked (jwk: PublishedJwk, rules: KeySetRules, known: ReadonlyMap<string, UsableKey>): UsableKey | string {
  const kept = known.get(jwk.kid)
  return kept?.fingerprint === fingerprintOf(jwk) ? kept : check(jwk, rules)
}
