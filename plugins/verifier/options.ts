// The verifier's options: one TypeBox schema (each option's default is in its description),
// checked at registration with a message that names the option.
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ALGORITHMS } from './algorithms.js'
import type { VerifiedClaims } from './token-rules.js'

const IDENTIFIER = '^[A-Za-z_$][A-Za-z0-9_$]*$'

// A function, not a spread of one schema: declaration emit cannot name TypeBox's symbol keys.
const httpUrl = (description: string) => Type.String({ pattern: '^https?://[^\\s]+$', description })
const AsymmetricAlgorithm = Type.Union(ALGORITHMS.map((alg) => Type.Literal(alg)))

const TrustedIssuerSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The exact `iss` to trust' }),
  jwksUrl: Type.Optional(httpUrl('Where this issuer\'s keys are fetched. Default: by `discovery`, else the issuer URL + /.well-known/jwks.json'))
}, { additionalProperties: false })
export type TrustedIssuer = Static<typeof TrustedIssuerSchema>

const IssuerListSchema = Type.Array(TrustedIssuerSchema, { minItems: 1, maxItems: 20 })

export const VerifierOptionsSchema = Type.Object({
  issuer: Type.Union([Type.String({ minLength: 1 }), IssuerListSchema], {
    description: 'Required. The exact `iss` to trust, or an allowlist of `{ issuer, jwksUrl? }`. ' +
      'A token\'s `iss` only picks one of these; it never chooses where keys come from.'
  }),
  audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    description: 'Required. The `aud` (or one of them) a token must carry'
  }),
  jwksUrl: Type.Optional(httpUrl('JWKS URL when `issuer` is a string. Default: by `discovery`, else the issuer URL + /.well-known/jwks.json')),
  discovery: Type.Boolean({
    default: false,
    description: 'Default false. Read `jwks_uri` from the issuer\'s /.well-known/openid-configuration (whose `issuer` must match exactly) for issuers without a jwksUrl'
  }),
  algorithms: Type.Array(AsymmetricAlgorithm, { minItems: 1, default: ['RS256'], description: 'Default ["RS256"]. Allowed `alg` values' }),
  clockTolerance: Type.Integer({ minimum: 0, maximum: 300, default: 5, description: 'Default 5. Seconds of clock skew allowed on exp, nbf, iat' }),
  fetchTimeout: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000, description: 'Default 3000. Milliseconds a JWKS fetch (discovery included) may take; then it is aborted and waiting requests get 503' }),
  cooldown: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000, description: 'Default 10000. Milliseconds between two JWKS fetches triggered by unknown kids or by a failed fetch, per issuer' }),
  keyCacheTtl: Type.Integer({ minimum: 1000, default: 300_000, description: 'Default 300000. Longest time (ms) between background JWKS refreshes; the JWKS Cache-Control max-age shortens it, `cooldown` is the floor' }),
  keyCacheMax: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Default 50. Most keys kept per issuer; a JWKS with more keys is refused' }),
  unknownKidCacheMax: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Default 1000. Most unknown kids remembered per issuer (the negative cache)' }),
  tokenCacheMax: Type.Integer({ minimum: 0, maximum: 100_000, default: 0, description: 'Default 0 (off). Verified tokens cached (keyed by the whole token); an entry never outlives `exp` nor its key' }),
  tokenCacheTtl: Type.Integer({ minimum: 1000, default: 60_000, description: 'Default 60000. Longest time (ms) a verified token stays cached' }),
  realm: Type.String({ default: 'api', description: 'Default "api". The realm of the WWW-Authenticate challenge' }),
  discoveryOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
    default: [],
    description: 'Default []. Origins besides the issuer\'s own that a discovery document may name for jwks_uri'
  }),
  revocations: Type.Union([Type.Literal(false), Type.Object({
    feedUrl: Type.Optional(httpUrl('The revocation feed when `issuer` is a string. Default: the `revocation_feed_endpoint` its discovery document advertises')),
    failClosedAfter: Type.Optional(Type.Integer({ minimum: 0, description: 'Refuse tokens (503) once the feed has been unreachable this many ms. Default: never (keep the last set)' })),
    idleTimeout: Type.Optional(Type.Integer({ minimum: 1000, description: 'Default 45000. A feed silent this long (no event, no keep-alive) is reconnected' }))
  }, { additionalProperties: false })], {
    default: {},
    description: 'Default {}: follow the issuer\'s revocation feed when it advertises one. false: never'
  }),
  // Passed to @fastify/jwt as they are.
  cookie: Type.Optional(Type.Object({
    cookieName: Type.String({ minLength: 1 }),
    signed: Type.Boolean({ default: false })
  }, { additionalProperties: false, description: 'Also read the token from this cookie (needs @fastify/cookie); the Authorization header wins' })),
  namespace: Type.Optional(Type.String({ pattern: IDENTIFIER, description: '@fastify/jwt namespace: request.<namespace>JwtVerify(), fastify.jwt.<namespace>, beside an app\'s own @fastify/jwt' })),
  jwtVerify: Type.Optional(Type.String({ pattern: IDENTIFIER, description: 'With namespace: the name of the request\'s verify method' })),
  jwtDecode: Type.Optional(Type.String({ pattern: IDENTIFIER, description: 'With namespace: the name of the request\'s decode method' })),
  decoratorName: Type.Optional(Type.String({ pattern: IDENTIFIER, description: 'Default "user". The request property that holds the verified token' }))
}, { additionalProperties: false })

export type VerifierOptions = Static<typeof VerifierOptionsSchema>
export type VerifierPluginOptions = Pick<VerifierOptions, 'issuer' | 'audience'> & Partial<VerifierOptions> & {
  /** @fastify/jwt's formatUser: what `request.user` holds, made from the verified (frozen) claims. */
  formatUser?: (claims: VerifiedClaims) => unknown
}

// Keys Fastify itself accepts in register options; not ours to refuse.
const FASTIFY_REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

function fail (option: string, message: string): never {
  throw new TypeError(`verifier plugin: option ${option}: ${message}`)
}

/** Options with defaults applied, or a TypeError naming the first bad option. */
export function checkOptions ({ formatUser, ...options }: VerifierPluginOptions): VerifierOptions & Pick<VerifierPluginOptions, 'formatUser'> {
  if (formatUser !== undefined && typeof formatUser !== 'function') fail('formatUser', 'must be a function')
  const copy: Record<string, unknown> = structuredClone({ ...options })
  for (const key of FASTIFY_REGISTER_KEYS) delete copy[key]
  const withDefaults = Value.Default(VerifierOptionsSchema, copy)
  // A list of issuers is checked on its own first: the union's error would not say which item is wrong.
  const issuerList = (withDefaults as { issuer?: unknown }).issuer
  const itemError = Array.isArray(issuerList) ? Value.Errors(IssuerListSchema, issuerList).First() : undefined
  if (itemError) fail(`issuer${itemError.path.replaceAll('/', '.')}`, itemError.message)
  const error = Value.Errors(VerifierOptionsSchema, withDefaults).First()
  if (error) fail(error.path.slice(1).replaceAll('/', '.'), error.message)
  const checked = withDefaults as VerifierOptions
  if (Array.isArray(checked.issuer) && checked.jwksUrl !== undefined) {
    fail('jwksUrl', 'set jwksUrl per issuer when issuer is an array')
  }
  if (checked.cooldown > checked.keyCacheTtl) fail('cooldown', 'must not be greater than keyCacheTtl')
  if (Array.isArray(checked.issuer) && checked.revocations !== false && checked.revocations.feedUrl !== undefined) {
    fail('revocations.feedUrl', 'set only with a single issuer (several issuers: each one\'s discovery document names its feed)')
  }
  if (checked.namespace === undefined && (checked.jwtVerify ?? checked.jwtDecode) !== undefined) {
    fail(checked.jwtVerify !== undefined ? 'jwtVerify' : 'jwtDecode', 'needs a namespace (@fastify/jwt renames its methods only then)')
  }
  trustedIssuers(checked)
  return { ...checked, formatUser }
}

/** The configured issuers, each with its fixed JWKS URL (undefined: found by discovery). */
export function trustedIssuers (options: VerifierOptions): TrustedIssuer[] {
  const list = typeof options.issuer === 'string'
    ? [{ issuer: options.issuer, ...(options.jwksUrl !== undefined && { jwksUrl: options.jwksUrl }) }]
    : options.issuer
  const seen = new Set<string>()
  return list.map(({ issuer, jwksUrl }, index) => {
    const name = typeof options.issuer === 'string' ? 'issuer' : `issuer.${index}.issuer`
    if (seen.has(issuer)) fail(name, `${issuer} is listed twice`)
    seen.add(issuer)
    if (jwksUrl !== undefined) return { issuer, jwksUrl }
    if (!/^https?:\/\/\S+$/.test(issuer)) fail(name, 'must be an http(s) URL unless a jwksUrl is set')
    return options.discovery ? { issuer } : { issuer, jwksUrl: `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json` }
  })
}
