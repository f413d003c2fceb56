// Turns a fetched JWK Set into one imported public key per kid, with a signature check for each
// allowed algorithm made for that key.
// A key is imported once: an unchanged key keeps its entry (and so the tokens cached against it)
// across refreshes; a key that leaves the set takes its entry and cached tokens with it.
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { JwksFetchError } from './jwks-fetch.js'
import { signatureChecks, type Algorithm, type SignatureCheck } from './jws.js'

/** A kid we would ever look up: RFC 7638 thumbprints and common issuer formats; junk never reaches a fetch. */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

export interface KeySetRules {
  /** The algorithms the verifier allows; a key is kept only for those that suit it. */
  algorithms: readonly Algorithm[]
  keyCacheMax: number
}

export interface KeyEntry {
  /** The public members of the JWK: a changed key under the same kid gets a new entry. */
  fingerprint: string
  /** One per allowed algorithm made for this key's type (only the JWK's `alg`, when it names one). */
  checks: ReadonlyMap<Algorithm, SignatureCheck>
}

const MIN_RSA_BITS = 2048

function createEntry (jwk: Record<string, unknown>, fingerprint: string, rules: KeySetRules): KeyEntry | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  const allowed = jwk.alg === undefined ? rules.algorithms : rules.algorithms.filter((alg) => alg === jwk.alg)
  try {
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    // RFC 7518 §3.3: RSA keys of 2048 bits or more; a smaller one is a broken or hostile JWKS.
    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? MIN_RSA_BITS) < MIN_RSA_BITS) return undefined
    const checks = signatureChecks(publicKey, allowed)
    return checks.size > 0 ? { fingerprint, checks } : undefined
  } catch {
    return undefined // a key we cannot import is a key no token of ours can use
  }
}

/** The usable keys of `body`, reusing `previous` entries whose key did not change. */
export function parseKeySet (body: unknown, previous: ReadonlyMap<string, KeyEntry>, rules: KeySetRules): Map<string, KeyEntry> {
  const keys = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new JwksFetchError('the answer is not a JWK Set', false)
  if (keys.length > rules.keyCacheMax) {
    throw new JwksFetchError(`the JWK Set has ${keys.length} keys, more than keyCacheMax (${rules.keyCacheMax})`, false)
  }
  const entries = new Map<string, KeyEntry>()
  for (const jwk of keys as Array<Record<string, unknown>>) {
    if (typeof jwk?.kid !== 'string' || !KID_PATTERN.test(jwk.kid) || entries.has(jwk.kid)) continue
    const fingerprint = JSON.stringify([jwk.kty, jwk.n, jwk.e, jwk.crv, jwk.x, jwk.y, jwk.alg, jwk.use])
    const kept = previous.get(jwk.kid)
    const entry = kept?.fingerprint === fingerprint ? kept : createEntry(jwk, fingerprint, rules)
    if (entry) entries.set(jwk.kid, entry)
  }
  if (entries.size === 0) throw new JwksFetchError('the JWK Set has no key usable with the allowed algorithms', false)
  return entries
}
