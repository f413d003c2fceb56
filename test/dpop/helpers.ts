// DPoP test helpers: key pairs made in the test and proofs signed with node:crypto, honest by
// default, with any header or claim overridden (or removed with undefined) to break one rule.
import { generateKeyPairSync, randomUUID, sign, constants, createHash, type KeyObject, type JsonWebKey } from 'node:crypto'

export interface ProofKey {
  alg: string
  privateKey: KeyObject
  publicJwk: JsonWebKey
}

export function proofKey (alg = 'ES256'): ProofKey {
  const pair = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg]! })
    : alg === 'EdDSA' || alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { alg, privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) }
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

export function signJws (key: ProofKey, header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const input = `${part(header)}.${part(claims)}`
  const alg = key.alg
  const digest = alg.startsWith('Ed') ? null : `sha${alg.slice(2)}`
  const options = alg.startsWith('ES')
    ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const }
    : alg.startsWith('PS') ? { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 } : key.privateKey
  return `${input}.${sign(digest, Buffer.from(input), options).toString('base64url')}`
}

export const ath = (token: string) => createHash('sha256').update(token).digest('base64url')

/** A proof for `htm` `htu` (and `accessToken`'s ath), with `claims` and `header` overriding the defaults. */
export function makeProof (key: ProofKey, htm: string, htu: string, options: { accessToken?: string, claims?: Record<string, unknown>, header?: Record<string, unknown> } = {}): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header }
  const claims = {
    jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ...(options.accessToken !== undefined && { ath: ath(options.accessToken) }), ...options.claims
  }
  return signJws(key, header, claims)
}
