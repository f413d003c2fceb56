// A service started before its issuer: a request that comes before any key set has loaded makes
// a fetch (or joins the one in flight) and waits for it; 503 only when that fetch fails. Over
// real HTTP: the resource service first, then the auth service, and the first token's answer is 200.
import { createServer } from 'node:http'
import t from 'tap'
import { addUser, login, reservePort, startAuth, startResource } from '../helper.js'
import { buildVerifierApp, callWith, makeKey, signToken, sleep } from './helpers.js'

async function closedPort () {
  const { port, close } = await reservePort()
  await close()
  return port
}

t.test('the first request after the issuer answers makes a fetch instead of waiting for the retry timer', async (t) => {
  const key = makeKey()
  const port = await closedPort()
  const issuer = `http://127.0.0.1:${port}`
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api' })
  const token = signToken(key, issuer)
  const down = await callWith(app, token)
  t.equal(down.statusCode, 503, 'the issuer down: the fetch this request made failed')
  // The background retries back off (100, 200, 400 ms...): the next one is a while away.
  while (app.verifier.stats().jwksFetches.failed < 4) await sleep(20)
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] })))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const failedBefore = app.verifier.stats().jwksFetches.failed
  t.equal((await callWith(app, token)).statusCode, 200, 'the first request once the issuer answers')
  t.equal(app.verifier.stats().jwksFetches.failed, failedBefore, 'no retry timer fired meanwhile: the request made the fetch')
})

t.test('before the first key set, requests share fetches, at most one started per 100 ms', async (t) => {
  const issuer = `http://127.0.0.1:${await closedPort()}`
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api' })
  const token = signToken(makeKey(), issuer)
  const started = Date.now()
  for (let wave = 0; wave < 10; wave++) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => callWith(app, token)))
    t.same([...new Set(answers.map((answer) => answer.statusCode))], [503])
  }
  const elapsed = Date.now() - started
  const { failed } = app.verifier.stats().jwksFetches
  t.ok(failed <= 2 + elapsed / 100, `${failed} fetches for 200 requests in ${elapsed} ms`)
})

t.test('production order: the resource service first, then the auth service; the first token is answered 200', async (t) => {
  const port = await closedPort()
  const issuer = `http://127.0.0.1:${port}`
  const resource = await startResource(t, issuer)
  // The resource service's first fetches fail meanwhile, and its retries back off.
  while (resource.verifier.stats().jwksFetches.failed < 4) await sleep(20)
  const auth = await startAuth(t, {}, {}, port)
  await addUser(auth, 'first', 'correct horse battery')
  while ((await fetch(`${issuer}/.well-known/jwks.json`)).status !== 200) await sleep(10)
  const { body } = await login(issuer, 'first', 'correct horse battery')
  const response = await fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${body.access_token as string}` } })
  t.equal(response.status, 200, await response.clone().text())
  t.match(await response.json(), { user: { username: 'first' } })
})
