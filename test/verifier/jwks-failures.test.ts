// A JWKS endpoint that misbehaves: every answer that is not a 200 JSON JWK Set is a clear fetch
// error (503 when no usable key, never 500, never a hang); redirects are never followed.
import t from 'tap'
import { captureLogs } from '../helper.js'
import { buildVerifierApp, reasonsOf, callWith, makeKey, signToken, startHungServer, startJwksServer } from './helpers.js'

const key = makeKey()
const ecKey = { kty: 'EC', crv: 'P-256', kid: 'ec', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }
const bad: Array<[string, (res: import('node:http').ServerResponse) => void]> = [
  ['a redirect', (res) => res.writeHead(302, { location: 'http://127.0.0.1:1/evil.json' }).end()],
  ['a 404', (res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"keys":[]}')],
  ['a 500', (res) => res.writeHead(500).end('oops')],
  ['HTML', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>')],
  ['no content type', (res) => { res.removeHeader('content-type'); res.writeHead(200).end('{}') }],
  ['invalid JSON', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":')],
  ['a connection reset in the body', (res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' }).write('{"keys"'); setTimeout(() => res.destroy(), 20) }],
  ['a huge body', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"keys":[],"x":"${'x'.repeat(300_000)}"}`)],
  ['an empty JWK Set', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}')],
  ['not a JWK Set', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('null')],
  ['too many keys', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: Array(51).fill(key.jwk) }))],
  ['no usable key', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
    keys: [ecKey, { ...key.jwk, use: 'enc', kid: 'enc' }, { kty: 'RSA', kid: 'small', n: 'AQAB', e: 'AQAB' }, { kty: 'RSA', kid: 'broken' }, { kid: 42 }, null, { ...key.jwk, alg: 'PS256', kid: 'ps' }]
  }))]
]

t.test('each bad answer is a 503 with Retry-After and a fixed message; what went wrong is in the log', async (t) => {
  for (const [name, respond] of bad) {
    const jwks = await startJwksServer(t)
    jwks.respond = (req, res) => respond(res)
    const logs = captureLogs('warn')
    const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl }, logs.logger)
    const response = await callWith(app, signToken(key, jwks.url))
    t.equal(response.statusCode, 503, name)
    t.equal(response.json().code, 'AUTH_JWKS_UNAVAILABLE', name)
    t.equal(response.json().message, 'The issuer\'s signing keys cannot be fetched right now', `${name}: nothing about our internals`)
    t.match(logs.lines, [{ msg: /^JWKS fetch failed/, issuer: jwks.url, err: /\S/ }], `${name}: the details in the log`)
    t.match(response.headers['retry-after'], /^\d+$/, name)
    t.notOk(response.headers['www-authenticate'], name)
    t.same(reasonsOf(app), ['jwks_unavailable'], name)
    t.match(app.verifier.stats(), { jwksFetches: { ok: 0, timedOut: 0 }, jwksLoaded: false, keysCached: 0 })
    t.ok(app.verifier.stats().jwksFetches.failed >= 1, `${name}: counted as a failed fetch`)
  }
})

t.test('a 500 after a good fetch keeps the known keys (stale while unreachable)', async (t) => {
  const jwks = await startJwksServer(t, [key])
  jwks.cacheControl = undefined
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, cooldown: 100 })
  t.equal((await callWith(app, signToken(key, jwks.url))).statusCode, 200)
  jwks.respond = (req, res) => res.writeHead(503).end()
  await new Promise((resolve) => setTimeout(resolve, 150))
  const unknown = await callWith(app, signToken(makeKey(), jwks.url))
  t.equal(unknown.statusCode, 503, 'a new kid cannot be checked')
  t.equal((await callWith(app, signToken(key, jwks.url))).statusCode, 200, 'a known kid still verifies')
})

t.test('a hung JWKS endpoint: requests are answered 503 within the timeout, the fetch is aborted', async (t) => {
  const hung = await startHungServer(t)
  const app = await buildVerifierApp(t, { issuer: hung.url, audience: 'ssot-api', fetchTimeout: 500 })
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: 20 }, () => callWith(app, signToken(key, hung.url))))
  const elapsed = Date.now() - started
  t.same(answers.map((r) => r.statusCode), Array(20).fill(503), 'all waiting requests are freed')
  t.ok(elapsed < 1500, `answered in ${elapsed} ms with fetchTimeout 500`)
  t.comment(`hung issuer: 20 concurrent requests answered 503 after ${elapsed} ms (fetchTimeout 500 ms)`)
  t.match(app.verifier.stats().jwksFetches, { ok: 0, failed: 0, timedOut: 1 }, 'the 20 requests shared one fetch')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(hung.pending(), 0, 'the aborted fetch closed its connection')
})

t.test('closing the app aborts a fetch in flight', async (t) => {
  const hung = await startHungServer(t)
  const app = await buildVerifierApp(t, { issuer: hung.url, audience: 'ssot-api', fetchTimeout: 60_000 })
  const pending = callWith(app, signToken(key, hung.url))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = Date.now()
  await app.close()
  t.equal((await pending).statusCode, 503)
  t.ok(Date.now() - started < 1000, 'no wait for the 60 s timeout')
})
