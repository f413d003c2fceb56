// What an operator sees from both services: readiness, metrics, redacted logs, security headers,
// the client address behind a proxy, load shedding and the OpenAPI document.
import t from 'tap'
import { loggerOptions } from '../../services/shared/config.js'
import { helmetHeaders } from '../../services/shared/security-headers.js'
import { addUser, buildAuth, captureLogs, startAuth, startResource, type Env } from '../helper.js'
import { freshPostgresUrl, postgresBaseUrl } from '../store/databases.js'
import { relay } from '../store/relay.js'
import { basic, loginPair, postJson, refresh } from '../sessions/helpers.js'

t.test('/ready answers 503 naming the store when PostgreSQL becomes unreachable', async (t) => {
  const base = postgresBaseUrl(t)
  if (!base) return
  const path = await relay(new URL(await freshPostgresUrl(t, base)))
  t.teardown(path.close)
  const app = await buildAuth(t, { DATABASE_URL: path.url })
  t.same((await app.inject('/ready')).json(), { status: 'ready', checks: { store: 'ok' } })
  path.cut()
  const response = await app.inject('/ready')
  t.equal(response.statusCode, 503)
  const body = response.json()
  t.match(body, { statusCode: 503, code: 'SERVICE_NOT_READY', checks: { store: /^failed: / } })
  t.match(body.message, /^store: failed: /)
  t.equal((await app.inject('/health')).statusCode, 200, 'alive all the same')
})

t.test('the resource is not ready before its first JWKS load, then ready', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)
  const before = await resource.inject('/ready')
  t.equal(before.statusCode, 503)
  t.match(before.json(), { code: 'SERVICE_NOT_READY', checks: { jwks: 'the JWKS has not been loaded yet' } })
  await addUser(auth, 'alice', 'correct horse battery')
  const { access_token: token } = await loginPair(auth, 'alice', 'correct horse battery')
  t.equal((await resource.inject({ url: '/resource/protected', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.same((await resource.inject('/ready')).json(), { status: 'ready', checks: { jwks: 'ok', revocations: 'ok' } })
})

t.test('/metrics counts tokens by grant, failed logins, verifier results and JWKS fetches', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)
  await addUser(auth, 'alice', 'correct horse battery')
  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const pair = await loginPair(auth, 'alice', 'correct horse battery')
  t.equal((await postJson(auth, '/auth/login', { username: 'alice', password: 'wrong' })).statusCode, 401)
  t.equal((await refresh(auth, pair.refresh_token)).statusCode, 200)
  t.equal((await postJson(auth, '/oauth/token', { grant_type: 'client_credentials' }, basic('billing', clientSecret))).statusCode, 200)
  t.equal((await resource.inject({ url: '/resource/protected', headers: { authorization: `Bearer ${pair.access_token}` } })).statusCode, 200)
  t.equal((await resource.inject({ url: '/resource/protected', headers: { authorization: 'Bearer not.a.token' } })).statusCode, 401)

  const authMetrics = await auth.inject('/metrics')
  t.match(authMetrics.headers['content-type'], /^text\/plain/)
  const authText = authMetrics.body
  t.match(authText, /^auth_tokens_issued_total\{grant="password"\} 1$/m)
  t.match(authText, /^auth_tokens_issued_total\{grant="refresh_token"\} 1$/m)
  t.match(authText, /^auth_tokens_issued_total\{grant="client_credentials"\} 1$/m)
  t.match(authText, /^auth_logins_failed_total\{reason="[a-z_]+"\} 1$/m)
  t.match(authText, /^issuer_signing_keys\{kid="[^"]+",state="active"\} 1$/m)
  t.match(authText, /^issuer_active_key_age_seconds [0-9.e+-]+$/m)
  t.match(authText, /^http_requests_total\{method="POST",route="\/auth\/login",status_code="200"\} 1$/m)
  t.equal((await resource.inject('/nowhere')).statusCode, 404)
  const resourceText = (await resource.inject('/metrics')).body
  t.match(resourceText, /^http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m)
  t.match(resourceText, /^verifier_results_total\{result="ok"\} 1$/m)
  t.match(resourceText, /^verifier_results_total\{result="malformed"\} 1$/m)
  t.match(resourceText, /^verifier_jwks_fetches_total\{outcome="ok"\} 1$/m)
  t.match(resourceText, /^http_request_duration_seconds_count\{[^}]*route="\/resource\/protected"[^}]*\} 1$/m)
  t.comment(authText.split('\n').filter((line) => /^auth_|^issuer_/.test(line)).join('\n'))
  t.comment(resourceText.split('\n').filter((line) => /^verifier_/.test(line)).join('\n'))
})

t.test('no password, refresh token, client secret or bearer token reaches the logs, even at trace', async (t) => {
  const { lines, stream } = captureLogs('trace')
  const logger = { ...loggerOptions('trace', false), stream }
  const auth = await startAuth(t, {}, { logger })
  const resource = await startResource(t, auth.url)
  await addUser(auth, 'alice', 'secret-password-123')
  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const pair = await loginPair(auth, 'alice', 'secret-password-123')
  const renewed = (await refresh(auth, pair.refresh_token)).json() as { refresh_token: string }
  t.equal((await postJson(auth, '/oauth/token', { grant_type: 'client_credentials', client_id: 'billing', client_secret: clientSecret })).statusCode, 200)
  t.equal((await postJson(auth, '/auth/login', { username: 'alice', password: 'another-secret-456' })).statusCode, 401)
  // A protected call on the auth service's logger: the resource keeps its own (silent) one.
  t.equal((await resource.inject({ url: '/resource/protected', headers: { authorization: `Bearer ${pair.access_token}` } })).statusCode, 200)
  t.equal((await auth.inject({ url: '/ready', headers: { authorization: `Bearer ${pair.access_token}` } })).statusCode, 200)
  const text = lines.map((line) => JSON.stringify(line)).join('\n')
  t.ok(lines.length > 10, 'trace lines were written')
  for (const secret of ['secret-password-123', 'another-secret-456', pair.refresh_token, renewed.refresh_token, clientSecret, pair.access_token]) {
    t.notOk(text.includes(secret), `${secret.slice(0, 8)}… is not in the logs`)
  }
})

t.test('helmet headers on both services, on answers and on errors', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)
  t.ok(Object.keys(helmetHeaders()).length >= 10, 'helmet sets its usual dozen headers')
  for (const app of [auth, resource]) {
    for (const url of ['/health', '/resource/protected', '/no-such-route']) {
      const response = await app.inject(url)
      t.equal(response.headers['x-content-type-options'], 'nosniff')
      t.equal(response.headers['x-frame-options'], 'SAMEORIGIN')
      t.match(response.headers['content-security-policy'], /default-src 'self'/)
      t.equal(response.headers['x-powered-by'], undefined)
      t.match(response.headers, helmetHeaders(), `${url}: every header helmet() sets`)
    }
  }
  const docs = await resource.inject('/docs')
  t.match(docs.headers['content-security-policy'], /img-src 'self' data: validator\.swagger\.io/, 'the docs page keeps swagger-ui\'s own CSP')
})

/** Failed logins from behind a proxy at 127.0.0.1, as the client at `ip`. */
function loginsVia (app: Awaited<ReturnType<typeof buildAuth>>) {
  return async (ip: string, username: string) => (await app.inject({
    method: 'POST',
    url: '/auth/login',
    remoteAddress: '127.0.0.1',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    payload: JSON.stringify({ username, password: 'wrong' })
  })).statusCode
}

const LIMITS = { LOGIN_MAX_PER_IP: '2', LOGIN_MAX_PER_USERNAME: '100' }

const TRUSTING: Env[] = [{ TRUST_PROXY: '127.0.0.1' }, { TRUST_PROXY: '1' }, { TRUST_PROXY: 'true', PROXY_OVERWRITES_FORWARDED_FOR: 'true' }]
for (const env of TRUSTING) {
  t.test(`${JSON.stringify(env)}: the per-IP login limit keys on X-Forwarded-For`, async (t) => {
    const attempt = loginsVia(await buildAuth(t, { ...env, ...LIMITS }))
    t.equal(await attempt('203.0.113.1', 'a'), 401)
    t.equal(await attempt('203.0.113.1', 'b'), 401)
    t.equal(await attempt('203.0.113.1', 'c'), 429, 'the third from one client address is limited')
    t.equal(await attempt('203.0.113.2', 'd'), 401, 'another client address behind the same proxy is not')
  })
}

const UNTRUSTING: Env[] = [{}, { TRUST_PROXY: '' }, { TRUST_PROXY: 'false' }]
for (const env of UNTRUSTING) {
  t.test(`TRUST_PROXY ${JSON.stringify(env)}: X-Forwarded-For is ignored, the proxy is the client`, async (t) => {
    const attempt = loginsVia(await buildAuth(t, { ...env, ...LIMITS }))
    t.equal(await attempt('203.0.113.1', 'a'), 401)
    t.equal(await attempt('203.0.113.2', 'b'), 401)
    t.equal(await attempt('203.0.113.3', 'c'), 429)
  })
}

t.test('under pressure: 503 with Retry-After; /health and /metrics still answer', async (t) => {
  const app = await buildAuth(t, { PRESSURE_MAX_HEAP_USED_MB: '1', PRESSURE_RETRY_AFTER_SECONDS: '7' })
  // under-pressure samples the heap once a second: wait for the first sample.
  let response = await app.inject('/ready')
  for (let tries = 0; response.statusCode !== 503 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    response = await app.inject('/ready')
  }
  t.equal(response.statusCode, 503)
  t.equal(response.headers['retry-after'], '7')
  t.match(response.json(), { statusCode: 503, code: 'FST_UNDER_PRESSURE' })
  const loginResponse = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'a', password: 'b' } })
  t.equal(loginResponse.statusCode, 503)
  t.equal(loginResponse.headers['retry-after'], '7')
  t.match(loginResponse.json(), { code: 'FST_UNDER_PRESSURE' })
  const tokenResponse = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials' } })
  t.equal(tokenResponse.statusCode, 503, 'under /oauth/ too: a 503, not a 500')
  t.equal(tokenResponse.headers['retry-after'], '7')
  t.match(tokenResponse.json(), { error: 'temporarily_unavailable', code: 'OAUTH_TEMPORARILY_UNAVAILABLE' })
  t.equal((await app.inject('/health')).statusCode, 200)
  t.equal((await app.inject('/metrics')).statusCode, 200)
})

t.test('/docs/json: bearer scheme, the login operation and its error responses', async (t) => {
  const app = await buildAuth(t)
  const doc = (await app.inject('/docs/json')).json()
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  const loginOp = doc.paths['/auth/login'].post
  t.ok(loginOp.requestBody, 'a documented body')
  for (const status of ['200', '400', '401', '429', '500', '503']) t.ok(loginOp.responses[status], `documents ${status}`)
})
