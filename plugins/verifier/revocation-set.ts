// The live revocations of one issuer, as the digests its feed publishes: SHA-256 over `sid:<sid>`
// or `jti:<jti>`, so the feed names no user or client and can be as public as the JWKS. Each
// entry leaves once the tokens it kills have expired: the set is bounded by the live revocations.
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

const SWEEP_EVERY = 60_000

export function createRevocationSet (clockTolerance: number) {
  // digest -> unix seconds after which no token it kills can still be accepted
  const entries = new Map<string, number>()

  /** Unix seconds: an entry whose exp is before this kills no token that could still be accepted. */
  const horizon = () => Date.now() / 1000 - clockTolerance

  function sweep (): void {
    const now = horizon()
    for (const [hash, exp] of entries) if (exp < now) entries.delete(hash)
  }
  const timer = setInterval(sweep, SWEEP_EVERY).unref()

  return {
    add (hash: string, exp: number): void {
      if (exp >= horizon()) entries.set(hash, Math.max(exp, entries.get(hash) ?? 0))
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
