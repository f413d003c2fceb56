// The console's server-side state: sign-ins under way (state, PKCE verifier, nonce) and signed-in
// admins (their access token, never sent to the browser). The browser holds only a random id in
// an HttpOnly cookie. In this process's memory: a console session lives on the replica that
// opened it (the admin listener is reached directly, not through a balancer); a restart signs
// admins out, and the next page signs them in again through the single sign-on session.
import { randomBytes } from 'node:crypto'

export interface PendingSignIn {
  state: string
  verifier: string
  nonce: string
  /** Where to go after signing in (a /console path). */
  returnTo: string
  expiresAt: number
}

export interface ConsoleSession {
  accessToken: string
  username: string
  /** The synchronizer CSRF token of every form of this session. */
  csrf: string
  /** The access token's exp, in ms. */
  expiresAt: number
  /** A message for the next page (what the last action did). */
  flash?: { kind: 'ok' | 'error', text: string, secret?: string }
}

const MAX_ENTRIES = 10_000
const PENDING_TTL_MS = 600_000

export const randomToken = () => randomBytes(32).toString('base64url')

/** A map that drops expired entries, and the oldest beyond `max`. */
export function expiringMap<T extends { expiresAt: number }> (max = MAX_ENTRIES) {
  const entries = new Map<string, T>()
  return {
    add (value: T): string {
      const id = randomToken()
      for (const [key, entry] of entries) if (entry.expiresAt <= Date.now() || entries.size >= max) entries.delete(key); else break
      entries.set(id, value)
      return id
    },
    get (id: string | undefined): T | undefined {
      const entry = id === undefined ? undefined : entries.get(id)
      if (entry === undefined || entry.expiresAt > Date.now()) return entry
      entries.delete(id!)
      return undefined
    },
    take (id: string | undefined): T | undefined {
      const entry = this.get(id)
      if (entry) entries.delete(id!)
      return entry
    },
    delete: (id: string) => entries.delete(id)
  }
}

export function createConsoleState () {
  return {
    pending: expiringMap<PendingSignIn>(),
    sessions: expiringMap<ConsoleSession>(),
    pendingTtl: PENDING_TTL_MS
  }
}

export type ConsoleState = ReturnType<typeof createConsoleState>
