// The live revocations of one issuer, as the digests its feed publishes: SHA-256 over `sid:<sid>`
// or `jti:<jti>`, so the feed names no user or client and can be as public as the JWKS. Each
// entry leaves once the tokens it kills have expired, and both the number of entries and how far
// ahead their exp may lie are capped: a feed (or someone between it and us) cannot fill the memory.
import { revocationHash } from '../shared/revocation-hash.js'

/** A token as revocations see it: its session and its id, and their digests once computed. */
export interface RevocableToken {
  sid?: string | undefined
  jti: string
  hashes?: string[]
}

/** The digests a token is refused by: its session's and its own. */
function tokenHashes ({ sid, jti }: RevocableToken): string[] {
  return sid === undefined ? [revocationHash('jti', jti)] : [revocationHash('sid', sid), revocationHash('jti', jti)]
}

export interface RevocationSetOptions {
  /** Seconds of clock skew allowed on exp. */
  clockTolerance: number
  /** Most entries held. */
  maxEntries: number
  /** Milliseconds: an entry's exp further ahead is brought back to this (no token we accept lives longer). */
  maxLifetime: number
}

const SWEEP_EVERY = 60_000

export function createRevocationSet (options: RevocationSetOptions) {
  // digest -> unix seconds after which no token it kills can still be accepted
  const entries = new Map<string, number>()

  /** Unix seconds: an entry whose exp is before this kills no token that could still be accepted. */
  const horizon = () => Date.now() / 1000 - options.clockTolerance

  function sweep (): void {
    const now = horizon()
    for (const [hash, exp] of entries) if (exp < now) entries.delete(hash)
  }
  const timer = setInterval(sweep, SWEEP_EVERY).unref()

  return {
    /** Holds `hash` until `exp` (unix seconds, capped); false when the set is full and it was not added. */
    add (hash: string, exp: number): boolean {
      if (exp < horizon()) return true
      const known = entries.get(hash)
      if (known === undefined && entries.size >= options.maxEntries) return false
      const latest = Math.ceil((Date.now() + options.maxLifetime) / 1000)
      entries.set(hash, Math.min(Math.max(exp, known ?? 0), latest))
      return true
    },
    /** Whether `token` is revoked; its digests are computed (once) only while a revocation is live. */
    revokes (token: RevocableToken): boolean {
      if (entries.size === 0) return false
      token.hashes ??= tokenHashes(token)
      return token.hashes.some((hash) => entries.has(hash))
    },
    sweep,
    close: () => clearInterval(timer),
    get size (): number { return entries.size }
  }
}

export type RevocationSet = ReturnType<typeof createRevocationSet>
