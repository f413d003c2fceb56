// Builds JWTs by hand, byte by byte, so tests can send exactly the malformed or malicious tokens
// an attacker would (RFC 8725), including ones no JWT library agrees to produce.
import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto'

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

export type Signing =
  | { alg: 'RS256', privatePem: string }
  | { alg: 'HS256', secret: string | Buffer }
  | { alg: 'none' }

/** `header` is sent as given (alg and all); `signing` says how the signature is really made. */
export function forge (header: Record<string, unknown>, payload: unknown, signing: Signing): string {
  const input = `${b64(header)}.${b64(payload)}`
  if (signing.alg === 'none') return `${input}.`
  const signature = signing.alg === 'HS256'
    ? createHmac('sha256', signing.secret).update(input).digest()
    : sign('sha256', Buffer.from(input), createPrivateKey(signing.privatePem))
  return `${input}.${signature.toString('base64url')}`
}

/** Claims a valid access token for `issuer` carries (RFC 9068), at the current time. */
export function validClaims (issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: issuer,
    sub: 'user-1',
    aud: 'ssot-api',
    exp: now + 300,
    iat: now,
    jti: randomUUID(),
    client_id: 'first-party-login',
    scope: 'profile',
    username: 'mallory',
    ...overrides
  }
}

/** A 2048-bit RSA key pair the issuer never saw. */
export function attackerKey () {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicJwk: publicKey.export({ format: 'jwk' })
  }
}
