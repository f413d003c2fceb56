// DPoP proofs (RFC 9449): the checks of §4.3 on one `DPoP` header, shared by the verifier (a
// resource server, §7) and the auth service's token endpoint (§5). fast-jwt decodes the proof;
// node:crypto imports its embedded public key and checks the signature. What this module does
// not do is what needs state or a request: the replay cache of each proof's jti (dpop-replay.ts)
// and where the expected URL comes from (a configured public origin, never the Host header).
// Each refusal is the verifier's `AUTH_DPOP_PROOF_INVALID` error with its own reason.
import { constants, createPublicKey, hash, verify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createDecoder } from 'fast-jwt'
import { LRUCache } from 'lru-cache'
import { dpopProofInvalid, type DpopProofReason } from './errors.js'

/**
 * The JWS algorithms a proof may use (RFC 9449 §4.2: asymmetric only). Ed25519 keys are signed as
 * `EdDSA` (RFC 8037) by some clients and as `Ed25519` (RFC 9864) by others (the `dpop` package,
 * oauth4webapi): both names are accepted.
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const
export type DpopAlgorithm = typeof DPOP_ALGORITHMS[number]

export const DPOP_TYPE = 'dpop+jwt'
/** The longest proof read: a header with an RSA 4096 key and its signature fit in well under this. */
const MAX_PROOF_LENGTH = 8192
/** The longest jti accepted (RFC 9449 §11.1: the replay cache holds its hash anyway). */
const MAX_JTI_LENGTH = 256
const MIN_RSA_BITS = 2048
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

const decode = createDecoder({ complete: true }) as (token: string) => { header: Record<string, unknown>, payload: Record<string, unknown>, signature: string, input: string }

/** The node:crypto key type (and curve) each algorithm is for, and how it verifies. */
const KEY_KINDS: Record<DpopAlgorithm, { type: string, curve?: string, digest: string | null, size?: number, pss?: number }> = {
  ES256: { type: 'ec', curve: 'prime256v1', digest: 'sha256', size: 64 },
  ES384: { type: 'ec', curve: 'secp384r1', digest: 'sha384', size: 96 },
  ES512: { type: 'ec', curve: 'secp521r1', digest: 'sha512', size: 132 },
  PS256: { type: 'rsa', digest: 'sha256', pss: 32 },
  PS384: { type: 'rsa', digest: 'sha384', pss: 48 },
  PS512: { type: 'rsa', digest: 'sha512', pss: 64 },
  RS256: { type: 'rsa', digest: 'sha256' },
  RS384: { type: 'rsa', digest: 'sha384' },
  RS512: { type: 'rsa', digest: 'sha512' },
  EdDSA: { type: 'ed25519', digest: null },
  Ed25519: { type: 'ed25519', digest: null }
}

/** The members of each key type that make its RFC 7638 thumbprint, in their lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] }

/** base64url(SHA-256(`text`)): the `ath` of an access token (RFC 9449 §4.2), and the jkt's digest. */
export function sha256Base64url (text: string): string {
  return hash('sha256', text, 'base64url')
}

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK (EC, RSA or OKP): the `jkt` of the tokens bound
 * to it. Undefined when a required member is missing or not a string.
 */
export function jwkThumbprint (jwk: Record<string, unknown>): string | undefined {
  const members = THUMBPRINT_MEMBERS[jwk.kty as string]
  if (!members || !members.every((member) => typeof jwk[member] === 'string')) return undefined
  return sha256Base64url(JSON.stringify(Object.fromEntries(members.map((member) => [member, jwk[member]]))))
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/**
 * `text` as an http(s) URL without its query and fragment, normalised as RFC 3986 §6.2.2 and
 * §6.2.3 say (the WHATWG parser lowercases the scheme and host, drops the default port, resolves
 * dot segments and makes an empty path `/`; here percent-encoded unreserved characters are decoded
 * and the other escapes uppercased). Undefined when it is no http(s) URL, or has userinfo.
 */
export function normalizeHtu (text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined
  const path = url.pathname.replace(/%([0-9a-fA-F]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : escape.toUpperCase()
  })
  return `${url.protocol}//${url.host}${path}`
}

/**
 * normalizeHtu with its answers kept (at most `max`, least recently used out): a client names the
 * same few URLs again and again, and parsing one costs as much as a tenth of a proof's check.
 */
export function normalizedHtus (max = 1000): (text: string) => string | undefined {
  const known = new LRUCache<string, { url: string | undefined }>({ max })
  return (text) => {
    let hit = known.get(text)
    if (!hit) known.set(text, hit = { url: normalizeHtu(text) })
    return hit.url
  }
}

export interface DpopProofRules {
  /** The algorithms accepted, a subset of DPOP_ALGORITHMS. */
  algorithms: readonly DpopAlgorithm[]
  /** Seconds a proof is accepted after its `iat`. */
  maxAge: number
  /** Seconds of clock skew allowed on `iat` (either way). */
  clockTolerance: number
}

export interface ProofRequest {
  /** The request's DPoP header as Node parsed it (several headers arrive joined by commas). */
  header: string | string[] | undefined
  method: string
  /** The URL the proof must name, already normalised (normalizeHtu); undefined: none can match. */
  htu: string | undefined
  /** The access token sent with the proof (a resource request): `ath` is then required and checked. */
  accessToken?: string
  /** Milliseconds since the epoch; default: now. */
  now?: number
}

export interface CheckedProof {
  /** The RFC 7638 thumbprint of the proof's key. */
  jkt: string
  jti: string
  iat: number
  nonce?: string
  /** Milliseconds for which the jti must be remembered: until no clock could still accept this proof. */
  replayWindow: number
}

function refuse (reason: Exclude<DpopProofReason, 'dpop_nonce'>, description: string): never {
  throw dpopProofInvalid(reason, description)
}

/** The proof's public key, for `alg`; refuses private members, symmetric keys and keys `alg` is not made for. */
function proofKey (jwk: unknown, alg: DpopAlgorithm): KeyObject {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) refuse('dpop_bad_key', 'the jwk header is missing')
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) refuse('dpop_bad_key', 'the jwk header carries private key members')
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    refuse('dpop_bad_key', 'the jwk header is not a public key')
  }
  const kind = KEY_KINDS[alg]
  const fits = key.asymmetricKeyType === kind.type && (kind.curve === undefined || key.asymmetricKeyDetails?.namedCurve === kind.curve) &&
    (key.asymmetricKeyDetails?.modulusLength ?? MIN_RSA_BITS) >= MIN_RSA_BITS
  if (!fits) refuse('dpop_bad_key', 'the jwk header is not a key for the alg')
  return key
}

function signatureValid (alg: DpopAlgorithm, key: KeyObject, input: string, signature: string): boolean {
  const kind = KEY_KINDS[alg]
  const bytes = Buffer.from(signature, 'base64url')
  if (kind.size !== undefined && bytes.length !== kind.size) return false
  const options = kind.type === 'ec'
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : kind.pss !== undefined ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: kind.pss } : key
  return verify(kind.digest, Buffer.from(input), options, bytes)
}

/** What a proof's header (its first part, as sent) was checked to be: the same part always checks the same way. */
interface CheckedHeader {
  alg: DpopAlgorithm
  key: KeyObject
  jkt: string
}

/** Most proof headers (one per client key and algorithm) kept checked and imported. */
const HEADER_CACHE_MAX = 1000
/** A header longer than this is checked every time (an RSA 4096 key's is about 1 KB). */
const HEADER_CACHE_LENGTH = 2048

/** The claims of a proof whose header came from the cache: the payload alone is decoded. */
function payloadOf (segment: string): Record<string, unknown> {
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    refuse('dpop_malformed', 'the DPoP header is not a well-formed JWT')
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) refuse('dpop_malformed', 'the DPoP header is not a well-formed JWT')
  return payload as Record<string, unknown>
}

/** The proof checker for `rules`: the checked proof of one request, or an AUTH_DPOP_PROOF_INVALID error. */
export function createProofChecker (rules: DpopProofRules) {
  const algorithms = new Set<string>(rules.algorithms)
  const replayWindow = (rules.maxAge + 2 * rules.clockTolerance) * 1000
  // A client signs every proof with one key, so its header repeats: importing its jwk (a third
  // of the cost of a proof) and checking it once per header, not per request. Bounded: a flood
  // of new keys only turns the cache over.
  const headers = new LRUCache<string, CheckedHeader>({ max: HEADER_CACHE_MAX })
  const normalized = normalizedHtus()

  /** Items 4-6 of §4.3 on a decoded header: typ, an allowed asymmetric alg, no crit, a public jwk for that alg. */
  function checkHeader (jose: Record<string, unknown>): CheckedHeader {
    if (jose.typ !== DPOP_TYPE) refuse('dpop_malformed', `the typ header is not ${DPOP_TYPE}`)
    if (!algorithms.has(jose.alg as string)) refuse('dpop_alg_not_allowed', 'the proof\'s algorithm is not allowed')
    if (jose.crit !== undefined) refuse('dpop_malformed', 'the proof has critical header extensions')
    const alg = jose.alg as DpopAlgorithm
    const key = proofKey(jose.jwk, alg)
    const jkt = jwkThumbprint(jose.jwk as Record<string, unknown>)
    /* c8 ignore next: a key node:crypto imported always has its thumbprint members */
    if (jkt === undefined) refuse('dpop_bad_key', 'the jwk header lacks its key members')
    return { alg, key, jkt }
  }

  return function checkProof (request: ProofRequest): CheckedProof {
    const { header } = request
    // RFC 9449 §4.3 items 1-2: exactly one DPoP header, one compact JWS (Node joins repeated headers with commas).
    if (header === undefined || header === '') refuse('dpop_missing', 'the request has no DPoP proof')
    if (typeof header !== 'string' || header.includes(',')) refuse('dpop_malformed', 'the request has more than one DPoP header')
    if (header.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(header)) refuse('dpop_malformed', 'the DPoP header is not one compact JWS')
    const first = header.indexOf('.')
    const last = header.lastIndexOf('.')
    const headerSegment = header.slice(0, first)
    let checked = headers.get(headerSegment)
    let claims: Record<string, unknown>
    if (checked) {
      claims = payloadOf(header.slice(first + 1, last))
    } else {
      let decoded: ReturnType<typeof decode>
      try {
        decoded = decode(header)
      } catch {
        refuse('dpop_malformed', 'the DPoP header is not a well-formed JWT')
      }
      checked = checkHeader(decoded.header)
      if (headerSegment.length <= HEADER_CACHE_LENGTH) headers.set(headerSegment, checked)
      claims = decoded.payload
    }
    const { alg, key, jkt } = checked
    if (!signatureValid(alg, key, header.slice(0, last), header.slice(last + 1))) refuse('dpop_bad_signature', 'the proof\'s signature is invalid')
    // Item 7: the claims, each of its type.
    const { jti, htm, htu, iat, ath, nonce } = claims
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) refuse('dpop_bad_claims', 'the jti claim is missing or too long')
    if (typeof htm !== 'string' || typeof htu !== 'string') refuse('dpop_bad_claims', 'the htm or htu claim is missing')
    if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse('dpop_bad_claims', 'the iat claim is missing')
    if (nonce !== undefined && typeof nonce !== 'string') refuse('dpop_bad_claims', 'the nonce claim is not a string')
    // Items 8-9: the method, and the URL without query and fragment, after normalisation.
    if (htm !== request.method) refuse('dpop_wrong_method', 'the proof is for another HTTP method')
    const named = normalized(htu)
    if (named === undefined || named !== request.htu) refuse('dpop_wrong_url', 'the proof is for another URL')
    // Item 11: iat within the window (the nonce, item 10, is the caller's to check).
    const now = (request.now ?? Date.now()) / 1000
    if (iat > now + rules.clockTolerance) refuse('dpop_stale', 'the proof was issued in the future')
    if (iat < now - rules.maxAge - rules.clockTolerance) refuse('dpop_stale', 'the proof is too old')
    // Item 12 (§7.1): the proof is for this very access token.
    if (request.accessToken !== undefined) {
      if (typeof ath !== 'string') refuse('dpop_bad_claims', 'the ath claim is missing')
      if (ath !== sha256Base64url(request.accessToken)) refuse('dpop_wrong_ath', 'the proof is for another access token')
    }
    return { jkt, jti, iat, ...(nonce !== undefined && { nonce }), replayWindow }
  }
}

export type ProofChecker = ReturnType<typeof createProofChecker>
