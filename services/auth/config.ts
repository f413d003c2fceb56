// The auth service's environment: one schema, validated once at start (see .env.example).
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_AUDIENCE, Duration, DURATION_PATTERN, durationSeconds, loadEnv, LogLevel } from '../shared/config.js'
import { OperationsEnvProperties, operationsOptions } from '../shared/operations-config.js'
import { keyTiming } from '../../plugins/issuer/key-timing.js'
import type { AuthAppOptions } from './app.js'
import type { AdminAppOptions } from './admin/app.js'
import { FEED_STREAM_LIMITS } from './stream-limits.js'
import { parseEncryptionKey } from './store/key-encryption.js'

export const AuthEnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  AUTH_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'Port of the auth service' }),
  ISSUER_URL: Type.String({ pattern: '^https?://', default: 'http://localhost:3000', description: 'The `iss` of every token' }),
  TOKEN_AUDIENCE: Type.String({ minLength: 1, default: DEFAULT_AUDIENCE, description: 'The `aud` of every token' }),
  ACCESS_TOKEN_TTL: Duration('15m', 'Access token lifetime'),
  KEYS_DIR: Type.String({ minLength: 1, default: './keys', description: 'Folder of the PEM key ring' }),
  KEYS_BACKEND: Type.Union([Type.Literal('files'), Type.Literal('database')], {
    default: 'files', description: 'Where the key ring lives: PEM files in KEYS_DIR, or the database (shared by replicas)'
  }),
  KEYS_ENCRYPTION_KEY: Type.Optional(Type.String({
    description: 'Required by KEYS_BACKEND=database: 32 random bytes, base64 (`openssl rand -base64 32`), the same on every replica; seals the private keys'
  })),
  JWKS_MAX_AGE: Duration('5m', 'How long verifiers may cache the JWKS (its Cache-Control max-age); key rotation timing follows from it'),
  KEYS_RELOAD_INTERVAL: Duration('5s', 'How often the running service looks at the key ring for a rotation; 0: never'),
  KEY_ROTATION_INTERVAL: Type.Optional(Type.String({
    pattern: DURATION_PATTERN, description: 'Rotate the signing key automatically this often; unset: only `npm run keys:rotate` rotates'
  })),
  DATABASE_URL: Type.String({
    pattern: '^(sqlite:|postgres(ql)?://)', default: 'sqlite:./data/auth.sqlite', description: '`sqlite:<path>` (embedded) or `postgres://user:pass@host:5432/db`'
  }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, default: 10, description: 'PostgreSQL connections per replica' }),
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 5000, description: 'Wait for a PostgreSQL connection' }),
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000, description: 'PostgreSQL statement_timeout' }),
  REDIS_URL: Type.Optional(Type.String({
    pattern: '^rediss?://', description: 'Login throttling counters shared by replicas (unset: per process; Redis down: per process, with a warning)'
  })),
  LOG_LEVEL: LogLevel,
  LOGIN_CLIENT_ID: Type.String({ minLength: 1, default: 'first-party-login', description: '`client_id` of tokens from /auth/login' }),
  LOGIN_SCOPE: Type.String({ default: 'profile', description: '`scope` of tokens from /auth/login' }),
  REFRESH_TOKEN_TTL: Duration('30d', 'Absolute lifetime of a login session (its refresh tokens)'),
  REFRESH_TOKEN_IDLE_TTL: Duration('7d', 'A refresh token unused for this long expires'),
  AUTH_SELF_URL: Type.Optional(Type.String({
    pattern: '^https?://',
    description: 'How this replica reaches itself (the userinfo endpoint checks tokens with the verifier plugin, which reads this service\'s JWKS there); unset: ISSUER_URL'
  })),
  BROWSER_SESSION_IDLE_TTL: Duration('1h', 'A browser session (single sign-on at the hosted login page) unused this long ends'),
  BROWSER_SESSION_TTL: Duration('12h', 'A browser session ends this long after its sign-in, used or not'),
  LOGIN_MAX_PER_IP: Type.Integer({
    minimum: 1, default: 20, description: 'Failed logins per client address (IPv6: per /64) per window, whatever the username, from clients without a device cookie; then 429'
  }),
  LOGIN_MAX_PER_USERNAME: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'Failed logins for one username per window from all clients without its device cookie together; then they all wait (429), one window, doubling each time up to LOGIN_MAX_DELAY'
  }),
  LOGIN_MAX_PER_DEVICE: Type.Integer({
    minimum: 1, default: 5, description: 'Failed logins per window of a client holding the username\'s device cookie; then that client waits a window (nobody else\'s failures count against it)'
  }),
  LOGIN_RATE_WINDOW: Duration('1m', 'Login throttling window'),
  LOGIN_MAX_DELAY: Duration('1h', 'The longest wait of clients without a device cookie during a campaign against one username (`npm run user:unlock` ends it)'),
  LOGIN_DEVICE_COOKIE_TTL: Duration('365d', 'Lifetime of a device cookie, renewed at each login (at most 400d, as browsers cap it)'),
  COOKIE_SECRET: Type.Optional(Type.String({
    description: 'Signs the device cookies: at least 32 characters (`openssl rand -base64 32`), the same on every replica; required outside --dev. ' +
      'Rotation: `new,old` (the first signs, both are accepted)'
  })),
  REVOCATION_FEED_POLL_MS: Type.Integer({
    minimum: 10,
    maximum: 60_000,
    default: 250,
    description: 'How often each replica reads the revocations other replicas and the CLIs committed, for GET /revocations (its own at once)'
  }),
  REVOCATION_FEED_HEARTBEAT: Duration('15s', 'A keep-alive comment on every GET /revocations stream this often, so followers notice a dead connection (at least 1s)'),
  REVOCATION_FEED_MAX_STREAMS: Type.Integer({
    minimum: 1, default: FEED_STREAM_LIMITS.maxStreams, description: 'Open GET /revocations streams per replica at most (one per verifier); past it, 503 with Retry-After. Each may hold 4 MiB for a follower that stopped reading'
  }),
  REVOCATION_FEED_MAX_STREAMS_PER_IP: Type.Integer({
    minimum: 1, default: FEED_STREAM_LIMITS.maxStreamsPerAddress, description: 'Open GET /revocations streams per client address (IPv6: per /64) at most; past it, 503 with Retry-After'
  }),
  DPOP_MAX_AGE_SECONDS: Type.Integer({
    minimum: 1, maximum: 300, default: 60, description: 'A DPoP proof sent to a token-issuing route is accepted this long after its iat (plus 5 s of clock skew)'
  }),
  DPOP_NONCE_SECRET: Type.Optional(Type.String({
    minLength: 32,
    description: 'Unset: no DPoP nonces. Set: every DPoP proof sent to a token-issuing route must carry a server nonce (RFC 9449 §8) derived from this secret and the time; ' +
      'the same secret on every replica (`openssl rand -base64 32`), nothing else shared'
  })),
  ADMIN_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002, description: 'Port of the admin API and console (on ADMIN_HOST, never on AUTH_PORT)' }),
  ADMIN_HOST: Type.String({ default: '127.0.0.1', description: 'Address of the admin listener; keep it private (loopback, or a network only operators reach)' }),
  ADMIN_CONSOLE_URL: Type.Optional(Type.String({
    pattern: '^https?://[^/]+$', description: 'Where browsers reach the admin console (its origin, no path); default http://127.0.0.1:ADMIN_PORT. Over https its cookies get `__Host-` names'
  })),
  ADMIN_AUDIENCE: Type.String({ minLength: 1, default: 'ssot-admin', description: 'The `aud` an access token needs at the admin API' }),
  ADMIN_MAX_AUTH_AGE: Duration('5m', 'A destructive admin action needs a sign-in (`auth_time`) at most this old; else 401 ADMIN_REAUTH_REQUIRED'),
  AUDIT_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 36_500, default: 90, description: 'Days an audit event is kept; older ones are purged every hour' }),
  DEMO_USERNAME: Type.Optional(Type.String({
    minLength: 1, description: 'With DEMO_PASSWORD: a user created at start if missing (`npm run dev`: testuser / password)'
  })),
  DEMO_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'The demo user\'s password' })),
  ...OperationsEnvProperties
})
export type AuthEnv = Static<typeof AuthEnvSchema>

export function loadAuthEnv (env: NodeJS.ProcessEnv): AuthEnv {
  return loadEnv(AuthEnvSchema, env)
}

/** Automatic rotation must leave each next key published for JWKS_MAX_AGE + KEYS_RELOAD_INTERVAL. */
function checkRotationInterval (options: AuthAppOptions): void {
  if (options.keyRotationInterval === undefined) return
  const { minNextAge } = keyTiming({ ...options, reloadInterval: options.keysReloadInterval })
  if (options.keysReloadInterval === 0 || options.keyRotationInterval < minNextAge) {
    throw new Error('Invalid configuration: KEY_ROTATION_INTERVAL must be at least JWKS_MAX_AGE + KEYS_RELOAD_INTERVAL ' +
      `(${minNextAge}s), and KEYS_RELOAD_INTERVAL must not be 0`)
  }
}

/** KEYS_ENCRYPTION_KEY is checked whenever it is set, and required by the database backend. */
function keysBackendOptions (env: AuthEnv): Pick<AuthAppOptions, 'keysBackend' | 'keysEncryptionKey'> {
  if (env.KEYS_BACKEND === 'database' && env.KEYS_ENCRYPTION_KEY === undefined) {
    throw new Error('Invalid configuration: KEYS_BACKEND=database needs KEYS_ENCRYPTION_KEY (32 random bytes, base64); ' +
      'create one with `openssl rand -base64 32` and give every replica the same value')
  }
  return {
    keysBackend: env.KEYS_BACKEND,
    ...(env.KEYS_ENCRYPTION_KEY !== undefined && { keysEncryptionKey: parseEncryptionKey(env.KEYS_ENCRYPTION_KEY) })
  }
}

function revocationFeedOptions (env: AuthEnv): AuthAppOptions['revocationFeed'] {
  const heartbeat = durationSeconds(env.REVOCATION_FEED_HEARTBEAT)
  if (heartbeat < 1) throw new Error('Invalid configuration: REVOCATION_FEED_HEARTBEAT must be at least 1s')
  return {
    pollInterval: env.REVOCATION_FEED_POLL_MS,
    heartbeatInterval: heartbeat * 1000,
    maxStreams: env.REVOCATION_FEED_MAX_STREAMS,
    maxStreamsPerAddress: env.REVOCATION_FEED_MAX_STREAMS_PER_IP
  }
}

const MAX_COOKIE_AGE = 400 * 86400

function browserSessionOptions (env: AuthEnv): NonNullable<AuthAppOptions['browserSessions']> {
  const [idleTtl, absoluteTtl] = [durationSeconds(env.BROWSER_SESSION_IDLE_TTL), durationSeconds(env.BROWSER_SESSION_TTL)]
  if (idleTtl < 60 || absoluteTtl < idleTtl || absoluteTtl > MAX_COOKIE_AGE) {
    throw new Error('Invalid configuration: BROWSER_SESSION_IDLE_TTL must be at least 1m, and BROWSER_SESSION_TTL between BROWSER_SESSION_IDLE_TTL and 400d')
  }
  return { idleTtl, absoluteTtl }
}

function loginOptions (env: AuthEnv): AuthAppOptions['login'] {
  const deviceCookieMaxAge = durationSeconds(env.LOGIN_DEVICE_COOKIE_TTL)
  if (deviceCookieMaxAge < 1 || deviceCookieMaxAge > MAX_COOKIE_AGE) {
    throw new Error('Invalid configuration: LOGIN_DEVICE_COOKIE_TTL must be between 1s and 400d (browsers keep a cookie 400 days at most)')
  }
  const [rateWindow, maxDelay] = [durationSeconds(env.LOGIN_RATE_WINDOW), durationSeconds(env.LOGIN_MAX_DELAY)]
  if (rateWindow < 1 || maxDelay < rateWindow) {
    throw new Error('Invalid configuration: LOGIN_RATE_WINDOW must be at least 1s, and LOGIN_MAX_DELAY at least LOGIN_RATE_WINDOW')
  }
  return {
    maxPerIp: env.LOGIN_MAX_PER_IP,
    maxPerUsername: env.LOGIN_MAX_PER_USERNAME,
    maxPerDevice: env.LOGIN_MAX_PER_DEVICE,
    rateWindow,
    maxDelay,
    deviceCookieMaxAge
  }
}

export const COOKIE_SECRET_MISSING = 'Invalid configuration: COOKIE_SECRET is not set. It signs the device cookies that keep ' +
  'login throttling from locking owners out; every replica needs the same one. Create it with `openssl rand -base64 32`'

/** COOKIE_SECRET as a list (the first signs; all are accepted), each long enough to be a key. */
function cookieSecrets (value: string): string[] {
  const secrets = value.split(',').map((secret) => secret.trim())
  if (secrets.some((secret) => secret.length < 32)) {
    throw new Error('Invalid configuration: COOKIE_SECRET must be one or more comma-separated secrets of at least 32 characters each (`openssl rand -base64 32`)')
  }
  return secrets
}

/** What buildApp needs, from a validated environment. */
export function authAppOptions (env: AuthEnv): AuthAppOptions {
  const options: AuthAppOptions = {
    issuer: env.ISSUER_URL,
    audience: env.TOKEN_AUDIENCE,
    accessTokenTtl: durationSeconds(env.ACCESS_TOKEN_TTL),
    keysDir: env.KEYS_DIR,
    ...keysBackendOptions(env),
    jwksMaxAge: durationSeconds(env.JWKS_MAX_AGE),
    keysReloadInterval: durationSeconds(env.KEYS_RELOAD_INTERVAL),
    ...(env.KEY_ROTATION_INTERVAL !== undefined && { keyRotationInterval: durationSeconds(env.KEY_ROTATION_INTERVAL) }),
    databaseUrl: env.DATABASE_URL,
    operations: operationsOptions(env),
    databasePool: {
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeout: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeout: env.DATABASE_STATEMENT_TIMEOUT_MS
    },
    ...(env.REDIS_URL && { redisUrl: env.REDIS_URL }),
    refreshTokens: { absoluteTtl: durationSeconds(env.REFRESH_TOKEN_TTL), idleTtl: durationSeconds(env.REFRESH_TOKEN_IDLE_TTL) },
    browserSessions: browserSessionOptions(env),
    ...(env.AUTH_SELF_URL !== undefined && { selfUrl: env.AUTH_SELF_URL }),
    loginClientId: env.LOGIN_CLIENT_ID,
    loginScope: env.LOGIN_SCOPE,
    login: loginOptions(env),
    ...(env.COOKIE_SECRET ? { cookieSecrets: cookieSecrets(env.COOKIE_SECRET) } : {}),
    revocationFeed: revocationFeedOptions(env),
    dpop: { maxAge: env.DPOP_MAX_AGE_SECONDS, ...(env.DPOP_NONCE_SECRET !== undefined && { nonceSecret: env.DPOP_NONCE_SECRET }) },
    auditRetentionDays: env.AUDIT_RETENTION_DAYS
  }
  checkRotationInterval(options)
  return options
}

/** What buildAdminApp needs; `publicUrl`: the public listener of this replica, as this process reaches it. */
export function adminAppOptions (env: AuthEnv, publicUrl: string): AdminAppOptions {
  return {
    issuer: env.ISSUER_URL,
    audience: env.ADMIN_AUDIENCE,
    maxAuthAge: durationSeconds(env.ADMIN_MAX_AUTH_AGE),
    publicUrl,
    loginClientId: env.LOGIN_CLIENT_ID,
    defaultAudience: env.TOKEN_AUDIENCE,
    consoleUrl: env.ADMIN_CONSOLE_URL ?? `http://127.0.0.1:${env.ADMIN_PORT}`,
    operations: operationsOptions(env)
  }
}
