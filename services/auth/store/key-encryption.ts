// Private keys at rest: AES-256-GCM under the key-encryption key KEYS_ENCRYPTION_KEY.
//
// No KDF: a KDF (scrypt, HKDF) stretches or spreads a secret of low or uneven entropy, such as a
// password. KEYS_ENCRYPTION_KEY must be 32 uniformly random bytes (`openssl rand -base64 32`),
// which already is a full-strength AES-256 key; deriving another key from it would add nothing.
//
// Each key gets a fresh random 12-byte IV (GCM's native size; random IVs are safe far beyond the
// few keys a ring ever holds). The kid is the additional authenticated data, so a sealed key
// copied into another row (or a row whose kid was edited) fails authentication instead of loading.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import createError from '@fastify/error'

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16
/** A format tag first, so another scheme can follow without guessing what a row holds. */
const FORMAT = 'v1'

export const SealedKeyError = createError<[string]>(
  'AUTH_SIGNING_KEY_UNREADABLE',
  'Signing key %s in the database cannot be decrypted: KEYS_ENCRYPTION_KEY is not the key it was encrypted with, or the row was altered',
  500)

/**
 * KEYS_ENCRYPTION_KEY (base64 or base64url of 32 bytes) as a KeyObject: printing or logging it
 * shows no key bytes. The error names the variable, never its value.
 */
export function parseEncryptionKey (text: string): KeyObject {
  const bytes = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0)
  if (bytes.length !== 32) {
    throw new Error('Invalid configuration: KEYS_ENCRYPTION_KEY must be 32 random bytes in base64 or base64url ' +
      `(got ${bytes.length} bytes); create one with \`openssl rand -base64 32\``)
  }
  return createSecretKey(bytes)
}

/** `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to `kid`. */
export function sealPrivateKey (encryptionKey: KeyObject, kid: string, pem: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, encryptionKey, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(kid))
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()])
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext].map((part) => typeof part === 'string' ? part : part.toString('base64url')).join('.')
}

/** The PEM sealed for `kid`; SealedKeyError when the key, the kid or any byte does not match. */
export function openPrivateKey (encryptionKey: KeyObject, kid: string, sealed: string): string {
  const [format, ...parts] = sealed.split('.')
  try {
    if (format !== FORMAT || parts.length !== 3) throw new SealedKeyError(kid)
    const [iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer]
    const decipher = createDecipheriv(ALGORITHM, encryptionKey, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(kid)).setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch {
    throw new SealedKeyError(kid)
  }
}
