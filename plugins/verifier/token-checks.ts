// What the verifier checks before any key lookup (so junk never causes a fetch), the signature,
// and the claims after it; each failure is one of our errors, with its reason.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ACCESS_TOKEN_TYPE, AccessTokenClaimsSchema, type AccessTokenClaims } from '../shared/claims.js'
import { tokenExpired, tokenInvalid, tokenMissing } from './errors.js'
import { decodeJws, signatureMatches, type Algorithm, type Jws } from './jws.js'
import { KID_PATTERN, type KeyEntry } from './key-set.js'

const claimsChecker = TypeCompiler.Compile(AccessTokenClaimsSchema)
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/** The token of `Authorization: Bearer <token>` (RFC 6750 §2.1); other schemes count as no token. */
export function bearerToken (authorization: string | undefined): string {
  if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) throw tokenMissing()
  const match = BEARER.exec(authorization)
  if (!match) throw tokenInvalid('malformed', 'the Authorization header is malformed')
  return match[1]!
}

export interface DecodedToken {
  kid: string
  iss: string
  jws: Jws
}

/** Decodes without verifying and checks what picks the key: alg, typ, crit, kid and iss. */
export function preCheck (token: string, algorithms: readonly Algorithm[], issuers: ReadonlySet<string>): DecodedToken {
  const jws = decodeJws(token)
  if (!jws) throw tokenInvalid('malformed', 'the token is not a well-formed JWT')
  const { header, payload } = jws
  if (!algorithms.includes(header.alg as Algorithm)) throw tokenInvalid('alg_not_allowed', 'the algorithm is not allowed')
  if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== ACCESS_TOKEN_TYPE) {
    throw tokenInvalid('wrong_type', `the typ header is not ${ACCESS_TOKEN_TYPE}`)
  }
  // RFC 7515 §4.1.11: a token may not be accepted unless every extension it marks critical is
  // understood, and this verifier understands none.
  if (header.crit !== undefined) throw tokenInvalid('malformed', 'the token has critical header extensions')
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) {
    throw tokenInvalid('bad_kid', 'the kid header is missing or malformed')
  }
  if (typeof payload.iss !== 'string' || !issuers.has(payload.iss)) throw tokenInvalid('wrong_issuer', 'the issuer is not trusted')
  return { kid: header.kid, iss: payload.iss, jws }
}

/** The signature, by the key published under the token's kid, with an algorithm that suits that key. */
export function checkSignature (key: KeyEntry, jws: Jws): void {
  const check = key.checks.get(jws.header.alg as Algorithm) // one of the allowed algorithms (preCheck)
  if (!check) throw tokenInvalid('alg_not_allowed', 'the algorithm does not match the key')
  if (!signatureMatches(check, jws)) throw tokenInvalid('bad_signature', 'the signature is invalid')
}

export interface ClaimRules {
  audience: readonly string[]
  /** Seconds of clock skew allowed on exp, nbf and iat. */
  clockTolerance: number
}

/** Claim types, then time (exp, nbf, iat) and audience; `iss` was checked by preCheck. */
export function checkClaims (claims: Record<string, unknown>, rules: ClaimRules): AccessTokenClaims {
  if (!claimsChecker.Check(claims)) {
    const first = claimsChecker.Errors(claims).First()!
    throw tokenInvalid('bad_claims', `claim ${first.path.slice(1)} ${first.message}`)
  }
  const now = Date.now() / 1000
  if (claims.exp + rules.clockTolerance < now) throw tokenExpired()
  if (claims.nbf !== undefined && claims.nbf - rules.clockTolerance > now) {
    throw tokenInvalid('not_yet_valid', 'the token is not valid yet')
  }
  if (claims.iat - rules.clockTolerance > now) throw tokenInvalid('not_yet_valid', 'the token was issued in the future')
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud
  if (!audiences.some((aud) => rules.audience.includes(aud))) throw tokenInvalid('wrong_audience', 'the audience is not accepted')
  return claims
}
