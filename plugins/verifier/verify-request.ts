// One request's access token, checked in order, each step able to refuse it with one of our
// errors (whether a route catches it or the hook answers, the same code):
//   1. the token, from where it may come (token-rules.ts extractToken);
//   2. its header and form, before any key lookup (checkHeader): junk never causes a fetch;
//   3. the key, resolved by kid through get-jwks from what the issuer publishes (issuer-keys.ts);
//   4. the algorithm and signature, by fast-jwt with that key's own verifier (usable-keys.ts);
//   5. the claims (checkClaims), frozen all the way down; the revocations;
//   6. what the route gets: the claims, or what formatUser makes of them, frozen too;
//   7. its DPoP binding (dpop-binding.ts): a bound token only with a fresh proof of its key, on
//      every request, the token cache's hits too.
// A step that needs a fetch makes the rest wait for it; on the path every request takes (a known
// kid) nothing is asynchronous. A repeated token is answered from the token cache when it is on.
import type { FastifyRequest } from 'fastify'
import { createDpopBinding } from './dpop-binding.js'
import { tokenInvalid } from './errors.js'
import { deepFreeze, deepFreezeJson } from './frozen.js'
import type { VerifierOptions } from './options.js'
import type { RevocableToken } from './revocation-set.js'
import { createTokenCache } from './token-cache.js'
import { checkClaims, checkHeader, extractToken, type DecodedToken, type VerifiedClaims } from './token-rules.js'
import { refuseRevoked, stillStands, type TrustedIssuer, type TrustedIssuers } from './trusted-issuers.js'
import type { UsableKey } from './usable-keys.js'

/** What a request's token was verified as (and, as a RevocableToken, what revocations see of it). */
export interface Verified extends RevocableToken {
  claims: VerifiedClaims
  /** What routes are handed: the claims, or formatUser's result. */
  user: unknown
  issuer: TrustedIssuer
  key: UsableKey
}

export type FormatUser = (claims: VerifiedClaims) => unknown

export function createRequestVerifier (issuers: TrustedIssuers, options: VerifierOptions,
  decode: (token: string) => DecodedToken, formatUser: FormatUser | undefined) {
  const claimRules = { audience: [options.audience].flat(), clockTolerance: options.clockTolerance }
  const dpop = createDpopBinding(options)
  const dpopScheme = dpop.mode !== 'off'
  const tokenCache = options.tokenCacheMax > 0
    ? createTokenCache<Verified>(options.tokenCacheMax, options.tokenCacheTtl,
      // Dead once its key changes or it is revoked: the next request then takes the whole way and its answer.
      (verified) => verified.issuer.keys.current(verified.key.kid) === verified.key && stillStands(verified.issuer, verified))
    : undefined

  // What @fastify/jwt's decoder and fast-jwt's verifier throw is always their TokenError about the
  // token (fast-jwt wraps even node:crypto's own errors): a refusal, mapped here to one of ours.
  function decoded (token: string): DecodedToken {
    try {
      return decode(token)
    } catch {
      throw tokenInvalid('malformed', 'the token is not a well-formed JWT')
    }
  }

  function signedPayload (key: UsableKey, token: string): Record<string, unknown> {
    try {
      return key.verify(token)
    } catch {
      throw tokenInvalid('bad_signature', 'the signature is invalid')
    }
  }

  function withKey (token: string, issuer: TrustedIssuer, key: UsableKey): Verified {
    const claims = deepFreezeJson(checkClaims(signedPayload(key, token), claimRules)) as VerifiedClaims
    const verified: Verified = { claims, user: claims, issuer, key, sid: claims.sid, jti: claims.jti }
    refuseRevoked(issuer, verified)
    if (formatUser) verified.user = deepFreeze(formatUser(claims), 'formatUser\'s result')
    return verified
  }

  function verifyToken (token: string): Verified | Promise<Verified> {
    const header = checkHeader(decoded(token), options.algorithms, issuers.names)
    const issuer = issuers.get(header.iss)
    const key = issuer.keys.key(header.kid, header.alg)
    return key instanceof Promise ? key.then((found) => withKey(token, issuer, found)) : withKey(token, issuer, key)
  }

  function remember (token: string, verified: Verified): Verified {
    tokenCache!.set(token, verified, (verified.claims.exp + options.clockTolerance) * 1000)
    return verified
  }

  /** `verified` once its DPoP binding holds for this request (cached or not: every request its own proof). */
  function bound (request: FastifyRequest, token: string, verified: Verified): Verified | Promise<Verified> {
    const pending = dpop.confirm(request, token, verified.claims)
    return pending === undefined ? verified : pending.then(() => verified)
  }

  function verifyUncached (request: FastifyRequest, token: string): Verified | Promise<Verified> {
    if (!tokenCache) return verifyToken(token)
    const hit = tokenCache.get(token)
    if (hit) return hit
    const verified = verifyToken(token)
    return verified instanceof Promise ? verified.then((found) => remember(token, found)) : remember(token, verified)
  }

  return {
    /** The request's token verified (a promise only when a fetch is needed), or one of our errors thrown or rejected. */
    verify (request: FastifyRequest): Verified | Promise<Verified> {
      const token = extractToken(request, options.cookie, dpopScheme)
      const verified = verifyUncached(request, token)
      return verified instanceof Promise ? verified.then((found) => bound(request, token, found)) : bound(request, token, verified)
    },
    dpopMode: dpop.mode,
    dpopNonce: dpop.nonce,
    get tokensCached (): number { return tokenCache?.size ?? 0 }
  }
}
