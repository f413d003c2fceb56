// A kid the issuer stopped publishing is refused once a fetch succeeds without it, even for
// tokens held in the verified-token cache; a cached token never outlives its exp.
import t from 'tap'
import { buildVerifierApp, callWith, makeKey, reasonsOf, signToken, sleep, startJwksServer } from './helpers.js'

for (const tokenCacheMax of [0, 100]) {
  t.test(`removed kid is 401 after the next successful refresh (tokenCacheMax ${tokenCacheMax})`, async (t) => {
    const retired = makeKey()
    const active = makeKey()
    const jwks = await startJwksServer(t, [retired, active])
    jwks.cacheControl = 'max-age=0, no-cache'
    const app = await buildVerifierApp(t, {
      issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, cooldown: 300, keyCacheTtl: 1000, tokenCacheMax
    })
    const old = signToken(retired, jwks.url)
    t.equal((await callWith(app, old)).statusCode, 200)
    t.equal((await callWith(app, old)).statusCode, 200, 'twice: from the token cache when on')
    t.equal(app.verifier.stats().tokensCached, tokenCacheMax > 0 ? 1 : 0, 'one token cached, when the cache is on')
    jwks.keys = [active.jwk]
    await sleep(600) // the background refresh runs every cooldown (max-age 0)
    t.equal(app.verifier.stats().keysCached, 1)
    const refused = await callWith(app, old)
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, 'AUTH_TOKEN_INVALID')
    t.same(reasonsOf(app), ['unknown_kid'])
    t.equal((await callWith(app, signToken(active, jwks.url))).statusCode, 200)
  })
}

t.test('a cached token stops working at exp', async (t) => {
  const key = makeKey()
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, {
    issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, clockTolerance: 0, tokenCacheMax: 10, tokenCacheTtl: 60_000
  })
  const now = Math.floor(Date.now() / 1000)
  const token = signToken(key, jwks.url, { iat: now, exp: now + 2 })
  t.equal((await callWith(app, token)).statusCode, 200)
  t.equal((await callWith(app, token)).statusCode, 200)
  await sleep((now + 2) * 1000 - Date.now() + 100)
  const expired = await callWith(app, token)
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'AUTH_TOKEN_EXPIRED')
})

t.test('a key still published weeks later keeps verifying from get-jwks\' cache, with no fetch', async (t) => {
  const key = makeKey()
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl })
  t.equal((await callWith(app, signToken(key, jwks.url))).statusCode, 200)
  const fetches = jwks.fetches
  // get-jwks' LRU cache reads the age of its entries from performance.now(): 30 days on.
  const now = performance.now.bind(performance)
  const later = 30 * 24 * 3600 * 1000
  performance.now = () => now() + later
  t.teardown(() => { performance.now = now })
  await sleep(5) // past lru-cache's cached clock (1 ms resolution)
  const response = await callWith(app, signToken(key, jwks.url))
  t.equal(response.statusCode, 200, response.body)
  t.equal(jwks.fetches, fetches, 'answered from the cache the refresh filled')
})
