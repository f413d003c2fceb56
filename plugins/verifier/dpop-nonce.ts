// Server-provided DPoP nonces (RFC 9449 §8, §9), stateless: a nonce is the number of a time slot
// and an HMAC of it under one configured secret, so every replica that has the secret issues and
// accepts the same nonces with nothing shared at run time. A nonce is accepted during its own slot
// and the `slots - 1` before the current one; a client that sends an older one (or none) is told the
// current one in the DPoP-Nonce header and retries.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface NonceOptions {
  /** At least 32 characters, the same on every replica. */
  secret: string
  /** Seconds a slot lasts; default 60. */
  slotSeconds?: number
  /** Slots a nonce stays valid, counting its own; default 3. */
  slots?: number
}

const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/

export function createNonces ({ secret, slotSeconds = 60, slots = 3 }: NonceOptions) {
  const slotOf = (now: number) => Math.floor(now / 1000 / slotSeconds)
  const nonceOf = (slot: number) => `${slot.toString(36)}.${createHmac('sha256', secret).update(`dpop-nonce:${slot}`).digest('base64url').slice(0, 22)}`
  return {
    /** The nonce to hand out now. */
    current (now = Date.now()): string {
      return nonceOf(slotOf(now))
    },
    /** Whether `nonce` is one of ours and still fresh. */
    valid (nonce: unknown, now = Date.now()): boolean {
      const match = typeof nonce === 'string' ? NONCE.exec(nonce) : null
      if (!match) return false
      const slot = parseInt(match[1]!, 36)
      const current = slotOf(now)
      if (slot > current || slot <= current - slots) return false
      return timingSafeEqual(Buffer.from(nonce as string), Buffer.from(nonceOf(slot)))
    }
  }
}

export type Nonces = ReturnType<typeof createNonces>
