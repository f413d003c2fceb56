// The verifier's options: one TypeBox schema (each option's default and unit in its description),
// checked at registration. A refusal names the option, what was given and what to write instead
// (each schema's `expected`).
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value'
import { ALGORITHMS } from './algorithms.js'
import { DPOP_ALGORITHMS, normalizeHtu } from './dpop-proof.js'
import type { RedisLike } from './dpop-replay.js'
import type { VerifiedClaims } from './token-rules.js'

const IDENTIFIER = '^[A-Za-z_$][A-Za-z0-9_$]*$'
/** The longest a Node.js timer can wait: a larger delay fires at once. */
const MAX_TIMER = 2_147_483_647

// Functions, not spreads of one schema: declaration emit cannot name TypeBox's symbol keys.
const httpUrl = (description: string) => Type.String({ pattern: '^https?://[^\\s]+$', description, expected: 'an http(s) URL' })
const milliseconds = (minimum: number, maximum: number, description: string, fallback?: number) => Type.Integer({
  minimum,
  maximum,
  ...(fallback !== undefined && { default: fallback }),
  description,
  expected: `milliseconds, an integer from ${minimum} to ${maximum}${maximum === MAX_TIMER ? ' (about 24.8 days: the longest a timer waits)' : ''}`
})
const identifier = (description: string) => Type.String({ pattern: IDENTIFIER, description, expected: 'a JavaScript identifier, e.g. \'ssot\'' })
const AsymmetricAlgorithm = Type.Union(ALGORITHMS.map((alg) => Type.Literal(alg)), { expected: `one of ${ALGORITHMS.join(', ')}` })

const TrustedIssuerSchema = Type.Object({
  issuer: Type.String({ minLength: 1, description: 'The exact `iss` to trust', expected: 'the exact iss of the tokens' }),
  jwksUrl: Type.Optional(httpUrl('Where this issuer\'s keys are fetched. Default: by `discovery`, else the issuer URL + /.well-known/jwks.json'))
}, { additionalProperties: false, expected: '{ issuer, jwksUrl? }' })
export type TrustedIssuer = Static<typeof TrustedIssuerSchema>

const IssuerListSchema = Type.Array(TrustedIssuerSchema, { minItems: 1, maxItems: 20, expected: 'from 1 to 20 { issuer, jwksUrl? }' })

const RevocationsSchema = Type.Object({
  feedUrl: Type.Optional(httpUrl('The revocation feed when `issuer` is a string. Default: the `revocation_feed_endpoint` its discovery document advertises')),
  failClosedAfter: Type.Optional(milliseconds(0, MAX_TIMER, 'Refuse tokens (503) once revocations may have been missed this long, counted from the last data the feed sent. Default: never (keep the last set)')),
  idleTimeout: Type.Optional(milliseconds(1000, MAX_TIMER, 'Default 45000. A feed silent this long (no event, no keep-alive) is reconnected')),
  maxEntries: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Default 100000. Most live revocations held per issuer (about 105 bytes each); a feed that sends more is treated as broken', expected: 'an integer from 1 to 10000000' })),
  maxLifetime: Type.Optional(milliseconds(60_000, MAX_TIMER, 'Default 86400000 (24 h). An entry is kept at most this long, whatever exp it names: longer than any access token you accept'))
}, { additionalProperties: false, expected: 'false, or { feedUrl?, failClosedAfter?, idleTimeout?, maxEntries?, maxLifetime? }' })

const DpopAlgorithm = Type.Union(DPOP_ALGORITHMS.map((alg) => Type.Literal(alg)), { expected: `one of ${DPOP_ALGORITHMS.join(', ')}` })
const DpopModeSchema = Type.Union([Type.Literal('off'), Type.Literal('allowed'), Type.Literal('required')], {
  default: 'allowed',
  description: 'Default "allowed". DPoP (RFC 9449): "allowed" takes `Authorization: DPoP` with a proof beside Bearer; "required" takes DPoP only; ' +
    '"off" takes Bearer only. Whatever the mode, a DPoP-bound token (cnf.jkt) is never accepted without its proof',
  expected: '\'off\', \'allowed\' or \'required\''
})
const RedisReplaySchema = Type.Object({
  redis: Type.Unsafe<RedisLike>(Type.Any({ expected: 'an ioredis client (or any client with set(key, value, \'PX\', ms, \'NX\'))' })),
  prefix: Type.String({ default: 'dpop:', expected: 'a string' })
}, { additionalProperties: false, expected: '\'memory\', or { redis, prefix? }' })

export const VerifierOptionsSchema = Type.Object({
  issuer: Type.Union([Type.String({ minLength: 1 }), IssuerListSchema], {
    description: 'Required. The exact `iss` to trust, or an allowlist of `{ issuer, jwksUrl? }`. A token\'s `iss` only picks one of these; it never chooses where keys come from.',
    expected: 'the exact iss of the tokens (\'https://auth.example.com\'), or an array of { issuer, jwksUrl? }'
  }),
  audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    description: 'Required. The `aud` (or one of them) a token must carry',
    expected: 'the aud your tokens carry, as a string (\'my-api\') or a non-empty array of strings'
  }),
  jwksUrl: Type.Optional(httpUrl('JWKS URL when `issuer` is a string. Default: by `discovery`, else the issuer URL + /.well-known/jwks.json')),
  discovery: Type.Boolean({ default: false, description: 'Default false. Read `jwks_uri` from the issuer\'s /.well-known/openid-configuration (whose `issuer` must match exactly) for issuers without a jwksUrl', expected: 'true or false' }),
  algorithms: Type.Array(AsymmetricAlgorithm, { minItems: 1, default: ['RS256'], description: 'Default ["RS256"]. Allowed `alg` values', expected: `a non-empty array of ${ALGORITHMS.join(', ')}` }),
  clockTolerance: Type.Integer({ minimum: 0, maximum: 300, default: 5, description: 'Default 5. Seconds of clock skew allowed on exp, nbf, iat', expected: 'seconds, an integer from 0 to 300' }),
  fetchTimeout: milliseconds(100, 60_000, 'Default 3000. Milliseconds a JWKS fetch (discovery included) may take; then it is aborted and waiting requests get 503', 3000),
  cooldown: milliseconds(100, 3_600_000, 'Default 10000. Milliseconds between two JWKS fetches triggered by unknown kids or by a failed fetch, per issuer', 10_000),
  keyCacheTtl: milliseconds(1000, MAX_TIMER, 'Default 300000. Longest time (ms) between background JWKS refreshes; the JWKS Cache-Control max-age shortens it, `cooldown` is the floor', 300_000),
  keyCacheMax: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Default 50. Most keys kept per issuer; a JWKS with more keys is refused', expected: 'an integer from 1 to 1000' }),
  unknownKidCacheMax: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Default 1000. Most unknown kids remembered per issuer (the negative cache)', expected: 'an integer from 1 to 100000' }),
  tokenCacheMax: Type.Integer({ minimum: 0, maximum: 100_000, default: 0, description: 'Default 0 (off). Verified tokens cached (keyed by the whole token); an entry never outlives `exp`, its key nor a revocation', expected: 'an integer from 0 (off) to 100000' }),
  tokenCacheTtl: milliseconds(1000, MAX_TIMER, 'Default 60000. Longest time (ms) a verified token stays cached', 60_000),
  realm: Type.String({ default: 'api', description: 'Default "api". The realm of the WWW-Authenticate challenge', expected: 'a string' }),
  discoveryOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$', expected: 'an origin such as \'https://keys.example.com\'' }), {
    default: [],
    description: 'Default []. Origins besides the issuer\'s own that a discovery document may name for jwks_uri',
    expected: 'an array of origins such as \'https://keys.example.com\''
  }),
  revocations: Type.Union([Type.Literal(false), RevocationsSchema], {
    default: {},
    description: 'Default {}: follow the issuer\'s revocation feed when it advertises one. false: never',
    expected: RevocationsSchema.expected as string
  }),
  dpop: DpopModeSchema,
  publicUrl: Type.Optional(Type.String({
    pattern: '^https?://[^\\s?#]+$',
    description: 'Required for DPoP: this service\'s public URL as clients call it (an origin, optionally with the path prefix a proxy adds). ' +
      'A proof\'s htu must be it plus the request path; never read from the Host or X-Forwarded-Host header',
    expected: 'this service\'s public origin, e.g. \'https://api.example.com\''
  })),
  dpopAlgorithms: Type.Array(DpopAlgorithm, {
    minItems: 1, default: [...DPOP_ALGORITHMS], description: 'Default: all of them. The JWS algorithms a DPoP proof may use (asymmetric only)', expected: `a non-empty array of ${DPOP_ALGORITHMS.join(', ')}`
  }),
  dpopMaxAge: Type.Integer({ minimum: 1, maximum: 300, default: 60, description: 'Default 60. Seconds a DPoP proof is accepted after its iat (plus clockTolerance)', expected: 'seconds, an integer from 1 to 300' }),
  dpopReplay: Type.Union([Type.Literal('memory'), RedisReplaySchema], {
    default: 'memory',
    description: 'Default "memory". Where the jti of each accepted proof is kept (for dpopMaxAge + 2 × clockTolerance): this process, or Redis ({ redis, prefix? }) shared by every replica',
    expected: '\'memory\', or { redis, prefix? }'
  }),
  dpopReplayMax: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000, description: 'Default 100000. Most proofs the memory replay cache holds (about 150 bytes each): more than dpopMaxAge times the DPoP requests per second', expected: 'an integer from 1 to 10000000' }),
  dpopNonceSecret: Type.Optional(Type.String({
    minLength: 32,
    description: 'Unset: no nonces. Set: every DPoP proof must carry a server nonce (RFC 9449 §9), derived from this secret and the time, so replicas with the same secret need nothing shared; ' +
      'a proof without a fresh one gets 401 use_dpop_nonce and the nonce in DPoP-Nonce',
    expected: 'a secret of at least 32 characters (`openssl rand -base64 32`), the same on every replica'
  })),
  cookie: Type.Optional(Type.Object({
    cookieName: Type.String({ minLength: 1, expected: 'the cookie\'s name' }),
    signed: Type.Boolean({ default: false, expected: 'true or false' })
  }, { additionalProperties: false, description: 'Also read the token from this cookie (needs @fastify/cookie); the Authorization header wins', expected: '{ cookieName, signed? }' })),
  namespace: Type.Optional(identifier('@fastify/jwt namespace: request.<namespace>JwtVerify(), fastify.jwt.<namespace>, beside an app\'s own @fastify/jwt')),
  jwtVerify: Type.Optional(identifier('With namespace: the name of the request\'s verify method')),
  jwtDecode: Type.Optional(identifier('With namespace: the name of the request\'s decode method')),
  decoratorName: Type.Optional(identifier('Default "user". The request property that holds the verified token'))
}, { additionalProperties: false })

export type VerifierOptions = Static<typeof VerifierOptionsSchema>
export type VerifierPluginOptions = Pick<VerifierOptions, 'issuer' | 'audience'> & Partial<Omit<VerifierOptions, 'dpopReplay'>> & {
  /** Default 'memory'. Where the jti of each accepted DPoP proof is kept: this process, or Redis shared by every replica (prefix default 'dpop:'). */
  dpopReplay?: 'memory' | { redis: RedisLike, prefix?: string }
  /** What `request.user` (or the decoratorName property) holds, made from the verified claims; frozen in turn. */
  formatUser?: (claims: VerifiedClaims) => unknown
}

// Keys Fastify itself accepts in register options: not ours to check (nor to copy: functions).
const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])

const NO_SUCH_OPTION = 'there is no such option (check its spelling in the README\'s options table)'

function fail (option: string, message: string): never {
  throw new TypeError(`verifier plugin: option ${option}: ${message}`)
}

/** A copy of plain data (arrays and plain objects); anything else as it is, for the schema to judge. */
function plainCopy (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy)
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainCopy(item)]))
}

/** A schema error as a sentence naming the option (under `prefix`): what was given and what to write. */
function refuse (error: ValueError, prefix = ''): never {
  const option = `${prefix}${error.path}`.slice(1).replaceAll('/', '.')
  if (error.type === ValueErrorType.ObjectAdditionalProperties) fail(option, NO_SUCH_OPTION)
  const expected = (error.schema as TSchema & { expected: string }).expected
  if (error.type === ValueErrorType.ObjectRequiredProperty) fail(option, `is required; write ${expected}`)
  const given = JSON.stringify(error.value)
  const why = error.type === ValueErrorType.Union ? '' : ` (${error.message.toLowerCase()})`
  fail(option, `${given} cannot work${why}; write ${expected}`)
}

/** The first error of `schema` for the option at `path`: a list or an object is checked alone first, so the error names its item. */
function firstError (value: unknown, path: string, schema: TSchema): void {
  const error = Value.Errors(schema, value).First()
  if (error) refuse(error, path)
}

/** Options with defaults applied, or a TypeError naming the first bad option and what to write instead. */
export function checkOptions ({ formatUser, ...options }: VerifierPluginOptions): VerifierOptions & Pick<VerifierPluginOptions, 'formatUser'> {
  if (formatUser !== undefined && typeof formatUser !== 'function') fail('formatUser', 'must be a function (claims) => user')
  const ours = Object.fromEntries(Object.entries(options).filter(([key]) => !FASTIFY_REGISTER_KEYS.has(key)))
  // TypeBox cannot copy a function: one in place of an option is refused first.
  const [named] = Object.entries(ours).find(([, value]) => typeof value === 'function') ?? []
  if (named !== undefined) {
    const schema = VerifierOptionsSchema.properties[named as keyof VerifierOptions] as { expected?: string } | undefined
    fail(named, schema ? `a function cannot work; write ${schema.expected}` : NO_SUCH_OPTION)
  }
  // A Redis client is no data for TypeBox to copy: it is set aside, checked by hand, and put back.
  const replay = ours.dpopReplay as { redis?: unknown } | undefined
  const redis = typeof replay === 'object' && replay !== null ? replay.redis : undefined
  const withDefaults = Value.Default(VerifierOptionsSchema, plainCopy({ ...ours, ...(redis !== undefined && { dpopReplay: { prefix: 'dpop:', ...replay, redis: null } }) })) as VerifierOptions
  if (typeof withDefaults.dpopReplay === 'object' && withDefaults.dpopReplay !== null) firstError(withDefaults.dpopReplay, '/dpopReplay', RedisReplaySchema)
  // A list of issuers, or the revocations object, is checked on its own first: the union's error would not say which part is wrong.
  if (Array.isArray(withDefaults.issuer)) firstError(withDefaults.issuer, '/issuer', IssuerListSchema)
  if (typeof withDefaults.revocations === 'object' && withDefaults.revocations !== null) firstError(withDefaults.revocations, '/revocations', RevocationsSchema)
  firstError(withDefaults, '', VerifierOptionsSchema)
  if (Array.isArray(withDefaults.issuer) && withDefaults.jwksUrl !== undefined) fail('jwksUrl', 'set jwksUrl per issuer when issuer is an array')
  if (withDefaults.cooldown > withDefaults.keyCacheTtl) fail('cooldown', `must not be greater than keyCacheTtl (${withDefaults.keyCacheTtl})`)
  if (Array.isArray(withDefaults.issuer) && withDefaults.revocations !== false && withDefaults.revocations.feedUrl !== undefined) {
    fail('revocations.feedUrl', 'set only with a single issuer (several issuers: each one\'s discovery document names its feed)')
  }
  if (withDefaults.namespace === undefined && (withDefaults.jwtVerify ?? withDefaults.jwtDecode) !== undefined) {
    fail(withDefaults.jwtVerify !== undefined ? 'jwtVerify' : 'jwtDecode', 'needs a namespace (@fastify/jwt renames its methods only then)')
  }
  if (typeof withDefaults.dpopReplay === 'object') {
    if (typeof (redis as RedisLike | undefined)?.set !== 'function') {
      fail('dpopReplay.redis', 'is not a Redis client; write an ioredis client (or any client with set(key, value, \'PX\', ms, \'NX\'))')
    }
    withDefaults.dpopReplay.redis = redis as RedisLike
  }
  if (withDefaults.publicUrl !== undefined && normalizeHtu(withDefaults.publicUrl) === undefined) {
    fail('publicUrl', `${JSON.stringify(withDefaults.publicUrl)} is not a URL; write this service's public origin, e.g. 'https://api.example.com'`)
  }
  if (options.dpop !== undefined && options.dpop !== 'off' && withDefaults.publicUrl === undefined) {
    fail('publicUrl', `is required with dpop '${options.dpop}': write this service's public origin, e.g. 'https://api.example.com' (proofs name the URL clients call)`)
  }
  trustedIssuers(withDefaults)
  return { ...withDefaults, formatUser }
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
