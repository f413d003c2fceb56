// Configuration as an operator meets it: defaults that work, and one line naming a bad variable.
import t from 'tap'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { loadResourceEnv, resourceAppOptions } from '../../services/resource/config.js'
import { durationSeconds, loggerOptions } from '../../services/shared/config.js'
import { runScript } from '../helper.js'

t.test('defaults match DESIGN.md', async (t) => {
  const auth = loadAuthEnv({})
  t.match(auth, { HOST: '127.0.0.1', AUTH_PORT: 3000, ISSUER_URL: 'http://localhost:3000', ACCESS_TOKEN_TTL: '15m', KEYS_DIR: './keys', LOG_LEVEL: 'info' })
  t.equal(authAppOptions(auth).accessTokenTtl, 900)
  const resource = loadResourceEnv({})
  t.equal(resource.RESOURCE_PORT, 3001)
  t.equal(resource.TOKEN_AUDIENCE, auth.TOKEN_AUDIENCE, 'both services share one default audience')
  t.notOk('jwksUrl' in resourceAppOptions(resource).verifier, 'the JWKS URL is derived from the issuer by default')
  t.equal(resourceAppOptions(loadResourceEnv({ JWKS_URL: 'http://keys.internal/jwks' })).verifier.jwksUrl, 'http://keys.internal/jwks')
  t.notOk(resourceAppOptions(loadResourceEnv({ SERVICE_CLIENT_ID: 'reports' })).serviceClient, 'a client id without its secret is no client')
  t.match(resourceAppOptions(loadResourceEnv({ SERVICE_CLIENT_ID: 'reports', SERVICE_CLIENT_SECRET: 's' })).serviceClient,
    { clientId: 'reports', tokenUrl: 'http://localhost:3000/oauth/token' })
})

t.test('where the auth service reaches itself, and DPoP nonces at the resource service', async (t) => {
  t.notOk('selfUrl' in authAppOptions(loadAuthEnv({})), 'the issuer by default')
  t.equal(authAppOptions(loadAuthEnv({ AUTH_SELF_URL: 'http://10.0.0.5:3000' })).selfUrl, 'http://10.0.0.5:3000')
  t.notOk('dpopNonceSecret' in resourceAppOptions(loadResourceEnv({})).verifier, 'no nonces by default')
  const secret = 'a nonce secret of thirty-two characters or more'
  t.equal(resourceAppOptions(loadResourceEnv({ DPOP_NONCE_SECRET: secret })).verifier.dpopNonceSecret, secret)
})

t.test('revocations at the resource service: followed by discovery unless turned off or given', async (t) => {
  const revocations = (env: Record<string, string>) => resourceAppOptions(loadResourceEnv(env)).verifier.revocations
  t.same(revocations({}), {}, 'by default: the feed the issuer advertises, fail open')
  t.equal(revocations({ REVOCATION_FEED: 'off' }), false)
  t.same(revocations({ REVOCATION_FEED: 'https://auth.example/revocations', REVOCATION_FAIL_CLOSED_AFTER: '30s' }),
    { feedUrl: 'https://auth.example/revocations', failClosedAfter: 30_000 })
  t.throws(() => loadResourceEnv({ REVOCATION_FEED: 'sometimes' }), /REVOCATION_FEED/)
})

t.test('durations', async (t) => {
  t.equal(durationSeconds('90'), 90)
  t.equal(durationSeconds('90s'), 90)
  t.equal(durationSeconds('15m'), 900)
  t.equal(durationSeconds('12h'), 43_200)
  t.equal(durationSeconds('30d'), 2_592_000)
  t.throws(() => durationSeconds('15 minutes'), /Invalid duration/)
})

t.test('a bad value names its variable', async (t) => {
  t.throws(() => loadAuthEnv({ AUTH_PORT: 'abc' }), /Invalid configuration: .*AUTH_PORT/)
  t.throws(() => loadAuthEnv({ ACCESS_TOKEN_TTL: '15 minutes' }), /ACCESS_TOKEN_TTL/)
  t.throws(() => loadAuthEnv({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/)
  t.throws(() => loadAuthEnv({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
  t.throws(() => loadResourceEnv({ ISSUER_URL: 'localhost:3000' }), /ISSUER_URL/)
})

t.test('login throttling and cookies: one line for a value that cannot work', async (t) => {
  const options = (env: Record<string, string>) => authAppOptions(loadAuthEnv(env))
  t.match(options({}).login, { maxPerIp: 20, maxPerUsername: 10, maxPerDevice: 5, rateWindow: 60, maxDelay: 3600, deviceCookieMaxAge: 365 * 86400 })
  t.notOk('cookieSecrets' in options({}), 'no COOKIE_SECRET: none (server.ts refuses to start outside --dev)')
  t.match(options({}).revocationFeed, { maxStreams: 200, maxStreamsPerAddress: 20 })
  const secret = 'x'.repeat(32)
  t.same(options({ COOKIE_SECRET: `${secret}, ${'y'.repeat(40)}` }).cookieSecrets, [secret, 'y'.repeat(40)], 'the first signs, both are accepted')
  t.throws(() => options({ COOKIE_SECRET: `${secret},short` }), /^Invalid configuration: COOKIE_SECRET must be one or more comma-separated secrets of at least 32 characters/)
  t.throws(() => options({ LOGIN_DEVICE_COOKIE_TTL: '401d' }), /LOGIN_DEVICE_COOKIE_TTL must be between 1s and 400d/)
  t.throws(() => options({ LOGIN_DEVICE_COOKIE_TTL: '0' }), /LOGIN_DEVICE_COOKIE_TTL/)
  t.throws(() => options({ LOGIN_RATE_WINDOW: '0' }), /LOGIN_RATE_WINDOW must be at least 1s, and LOGIN_MAX_DELAY at least LOGIN_RATE_WINDOW/)
  t.throws(() => options({ LOGIN_RATE_WINDOW: '10m', LOGIN_MAX_DELAY: '5m' }), /LOGIN_MAX_DELAY at least LOGIN_RATE_WINDOW/)
})

t.test('the server stops with one clear line on a bad value', async (t) => {
  const result = runScript('services/auth/server.ts', [], { AUTH_PORT: 'abc' })
  t.equal(result.status, 1)
  t.match(result.stderr.trim(), /^Invalid configuration: env\/AUTH_PORT must be integer$/)
})

t.test('logs: asynchronous JSON lines by default, pretty lines in --dev, credentials redacted in both', async (t) => {
  const json = loggerOptions('warn', false)
  t.match(json, { level: 'warn', stream: { sync: false } })
  t.notOk('transport' in json, 'JSON lines on stdout')
  json.stream?.destroy()
  const line = `${JSON.stringify({ msg: 'x', body: { password: 'p1', nested: { refresh_token: 'r1' } }, client_secret: 's1' })}\n`
  t.same(JSON.parse(json.hooks.streamWrite(line)), { msg: 'x', body: { password: '[redacted]', nested: { refresh_token: '[redacted]' } }, client_secret: '[redacted]' })
  const pretty = loggerOptions('info', true)
  t.match(pretty, { level: 'info', transport: { target: 'pino-pretty' } })
  t.equal(pretty.hooks.streamWrite, json.hooks.streamWrite, 'the same redaction')
})
