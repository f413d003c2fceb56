// The issuer goes away and comes back: known kids keep verifying from the last key set, a new kid
// is 503 with Retry-After (quickly, not after a hang), and everything recovers by itself.
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { addUser, buildAuth, captureLogs, login, reservePort, startAuth } from '../helper.js'
import { buildVerifierApp, callWith, makeKey, reasonsOf, signToken, sleep } from './helpers.js'

t.test('issuer down, then back on the same port', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'alice', 'correct horse battery')
  const token = (await login(auth.url, 'alice', 'correct horse battery')).body.access_token as string
  const logs = captureLogs('warn')
  const app = await buildVerifierApp(t, { issuer: auth.url, audience: 'ssot-api', cooldown: 300, fetchTimeout: 1000 }, logs.logger)
  t.equal((await callWith(app, token)).statusCode, 200)

  await auth.close()
  await sleep(350) // past the cooldown: the next unknown kid may try a fetch
  const stranger = signToken(makeKey(), auth.url)
  const started = Date.now()
  const refused = await callWith(app, stranger)
  const elapsed = Date.now() - started
  t.equal(refused.statusCode, 503, 'a new kid cannot be checked while the issuer is down')
  t.equal(refused.json().code, 'AUTH_JWKS_UNAVAILABLE')
  t.match(refused.headers['retry-after'], /^[1-9]\d*$/)
  t.ok(elapsed < 1000, `503 within the fetch timeout (${elapsed} ms)`)
  t.comment(`issuer down: new kid answered 503 in ${elapsed} ms`)
  t.equal((await callWith(app, token)).statusCode, 200, 'the known kid keeps verifying')
  t.equal((await callWith(app, stranger)).statusCode, 503, 'within the cooldown: 503 without a fetch')
  t.match(logs.lines, [{ msg: 'JWKS fetch failed; the last keys stay in use', issuer: auth.url, err: /cannot reach/ }])

  const port = Number(new URL(auth.url).port)
  // buildAuth empties the test folder: the issuer comes back with a copy of the same key ring.
  const keysDir = await mkdtemp(join(tmpdir(), 'keys-'))
  t.teardown(() => rm(keysDir, { recursive: true, force: true }))
  await cp(auth.keysDir, keysDir, { recursive: true })
  const back = await buildAuth(t, { ISSUER_URL: auth.url, KEYS_DIR: keysDir })
  await back.listen({ host: '127.0.0.1', port })
  let recoveredAfter = -1
  for (let waited = 0; waited < 3000; waited += 100) {
    await sleep(100)
    if (app.verifier.stats().jwksFetches.ok >= 2) { recoveredAfter = waited + 100; break }
  }
  t.ok(recoveredAfter > 0, `the background retry fetched the keys again ${recoveredAfter} ms after the issuer came back`)
  t.equal((await callWith(app, stranger)).statusCode, 401, 'an unknown kid is a plain 401 again')
  t.equal((await callWith(app, token)).statusCode, 200)
  await addUser(back, 'bob', 'hunter2 hunter2')
  const fresh = (await login(auth.url, 'bob', 'hunter2 hunter2')).body.access_token as string
  t.equal((await callWith(app, fresh)).statusCode, 200, 'tokens signed after the restart verify')
  t.same(reasonsOf(app), ['jwks_unavailable', 'jwks_unavailable', 'unknown_kid'])
})

t.test('an issuer unreachable from the start: 503, and a warning that says no keys are in use yet', async (t) => {
  const closed = await reservePort()
  await closed.close()
  const issuer = `http://127.0.0.1:${closed.port}`
  const logs = captureLogs('warn')
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api', cooldown: 300, fetchTimeout: 1000 }, logs.logger)
  const refused = await callWith(app, signToken(makeKey(), issuer))
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'AUTH_JWKS_UNAVAILABLE')
  t.equal(app.verifier.stats().jwksLoaded, false)
  t.match(logs.lines[0], { msg: 'JWKS fetch failed; no keys yet: tokens get 503 until a fetch succeeds', issuer })
})
