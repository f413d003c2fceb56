// The checks the verifier makes around fast-jwt's signature check, each failure one of our errors
// with its reason: where the token comes from, what in its header picks the key (before any key
// lookup, so junk never causes a fetch), and the claims once the signature is checked.
// They are ours because @fastify/jwt folds every claim failure into one code (or lets fast-jwt's
// through as a 500), and fast-jwt's own `typ` check refuses `application/at+jwt` (RFC 9068 §4).
import type { FastifyRequest } from 'fastify'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ACCESS_TOKEN_TYPE, AccessTokenClaimsSchema, type AccessTokenClaims } from '../shared/claims.js'
import type { Algorithm } from './algorithms.js'
import { tokenExpired, tokenInvalid, tokenMissing } from './errors.js'
import { highS } from './signature-form.js'
import { KID_PATTERN } from './usable-keys.js'

const claimsChecker = TypeCompiler.Compile(AccessTokenClaimsSchema)
// RFC 6750 §2.1: a bearer scheme, in any case, followed by whitespace or nothing.
const BEARER_SCHEME = /^bearer(\s|$)/i
const BEARER_LENGTH = 'bearer'.length
// RFC 9449 §7.1: the DPoP scheme, the same way.
const DPOP_SCHEME = /^dpop(\s|$)/i
const DPOP_LENGTH = 'dpop'.length
const SPACE = 0x20

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Whether the base64url text from `start` to the end of `text` is the one spelling of its bytes:
 * its last character carries 4 spare bits after 2 characters of a group, 2 after 3, and they must
 * be zero; else each token would have up to 16 accepted spellings. A lone character is no byte at
 * all, and a character outside the alphabet fails here too.
 */
function canonical (text: string, start: number): boolean {
  const rest = (text.length - start) % 4
  if (rest === 0) return true
  return rest !== 1 && BASE64URL.indexOf(text[text.length - 1]!) % (rest === 2 ? 16 : 4) === 0
}

/**
 * `token`, if it is three parts (RFC 7515 §7.1: header and payload not empty) and its signature
 * is the one spelling of its bytes. The alphabet of each part is fast-jwt's decoder's to check:
 * it scans every part before decoding, so scanning them here too would only double the work.
 */
function wellFormed (token: string): string {
  const first = token.indexOf('.')
  const last = token.lastIndexOf('.')
  if (first < 1 || last <= first + 1 || token.indexOf('.', first + 1) !== last || !canonical(token, last + 1)) {
    throw tokenInvalid('malformed', 'the token is not a well-formed JWT')
  }
  return token
}

/**
 * The token of an Authorization header with a bearer scheme: what follows the scheme's spaces
 * (Node's parser has trimmed the value's trailing whitespace). No space after the scheme, that
 * is nothing or another whitespace, leaves no token.
 */
function schemeToken (authorization: string, schemeLength: number): string {
  let start = schemeLength
  while (authorization.charCodeAt(start) === SPACE) start++
  return start === schemeLength ? '' : authorization.slice(start)
}

/** Whether the request's Authorization header uses the DPoP scheme. */
export function usesDpopScheme (request: FastifyRequest): boolean {
  const authorization = request.headers.authorization
  return authorization !== undefined && DPOP_SCHEME.test(authorization)
}

export interface TokenCookie {
  cookieName: string
  signed: boolean
}

type CookieRequest = FastifyRequest & {
  cookies?: Record<string, string | undefined>
  unsignCookie?: (value: string) => { valid: boolean, value: string | null }
}

/** Where a token is looked for, for the 401 that says none was found. */
export function tokenPlaces (cookie: TokenCookie | undefined): string {
  return cookie ? `the Authorization header or the ${cookie.cookieName} cookie` : 'the Authorization header'
}

/**
 * The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or of `Authorization: DPoP <token>`
 * (RFC 9449 §7.1) when `dpop` is on, else of `cookie` when configured. Another scheme counts as no token.
 */
export function extractToken (request: FastifyRequest, cookie: TokenCookie | undefined, dpop = false): string {
  const authorization = request.headers.authorization
  if (authorization !== undefined) {
    if (BEARER_SCHEME.test(authorization)) return wellFormed(schemeToken(authorization, BEARER_LENGTH))
    if (dpop && DPOP_SCHEME.test(authorization)) return wellFormed(schemeToken(authorization, DPOP_LENGTH))
  }
  const raw = cookie && (request as CookieRequest).cookies?.[cookie.cookieName]
  if (!raw) throw tokenMissing(tokenPlaces(cookie))
  if (!cookie.signed) return wellFormed(raw)
  const { valid, value } = (request as CookieRequest).unsignCookie!(raw)
  if (!valid) throw tokenInvalid('malformed', 'the token cookie\'s signature is invalid')
  return wellFormed(value!)
}

export interface DecodedToken {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signature: string
}

/** What picks the key: alg, typ, crit, kid and iss, and the signature's form; checked before any key lookup. */
export function checkHeader ({ header, payload, signature }: DecodedToken, algorithms: readonly Algorithm[], issuers: ReadonlySet<string>) {
  if (!algorithms.includes(header.alg as Algorithm)) throw tokenInvalid('alg_not_allowed', 'the algorithm is not allowed')
  // The exact spelling first: the common case allocates nothing.
  if (header.typ !== ACCESS_TOKEN_TYPE && (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== ACCESS_TOKEN_TYPE)) {
    throw tokenInvalid('wrong_type', `the typ header is not ${ACCESS_TOKEN_TYPE}`)
  }
  // RFC 7515 §4.1.11: a token may not be accepted unless every extension it marks critical is
  // understood, and this verifier understands none.
  if (header.crit !== undefined) throw tokenInvalid('malformed', 'the token has critical header extensions')
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) throw tokenInvalid('bad_kid', 'the kid header is missing or malformed')
  if (typeof payload.iss !== 'string' || !issuers.has(payload.iss)) throw tokenInvalid('wrong_issuer', 'the issuer is not trusted')
  if (highS(header.alg as Algorithm, signature)) throw tokenInvalid('bad_signature', 'the ECDSA signature is not in its low-S form')
  return { alg: header.alg as Algorithm, kid: header.kid, iss: payload.iss }
}

export interface ClaimRules {
  audience: readonly string[]
  /** Seconds of clock skew allowed on exp, nbf and iat. */
  clockTolerance: number
}

/** Claim types, then time (exp, nbf, iat) and audience; `iss` was checked with the header. */
export function checkClaims (claims: Record<string, unknown>, rules: ClaimRules): AccessTokenClaims {
  if (!claimsChecker.Check(claims)) {
    const first = claimsChecker.Errors(claims).First()!
    throw tokenInvalid('bad_claims', `the claim ${first.path.slice(1).split('/')[0]} is missing or of the wrong type`)
  }
  const now = Date.now() / 1000
  if (claims.exp + rules.clockTolerance < now) throw tokenExpired()
  if (claims.nbf !== undefined && claims.nbf - rules.clockTolerance > now) throw tokenInvalid('not_yet_valid', 'the token is not valid yet')
  if (claims.iat - rules.clockTolerance > now) throw tokenInvalid('not_yet_valid', 'the token was issued in the future')
  const accepted = typeof claims.aud === 'string' ? rules.audience.includes(claims.aud) : claims.aud.some((aud) => rules.audience.includes(aud))
  if (!accepted) throw tokenInvalid('wrong_audience', 'the audience is not accepted')
  return claims
}

/** The claims as routes get them: frozen all the way down (see frozen.ts). */
export type VerifiedClaims = Readonly<Omit<AccessTokenClaims, 'aud' | 'roles'> & { aud: string | readonly string[], roles?: readonly string[] }>
