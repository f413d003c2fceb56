// A flood of tokens with random well-formed kids costs the issuer at most one JWKS fetch per
// cooldown window; a new key published during the flood reaches the verifier by the background
// refresh, so honest tokens signed with it never see a 401; the caches stay within their bounds.
import t from 'tap'
import pino from 'pino'
import { createDiscovery } from '../../plugins/verifier/discovery.js'
import { createIssuerKeys } from '../../plugins/verifier/issuer-keys.js'
import { createKeyAgent } from '../../plugins/verifier/key-agent.js'
import { buildVerifierApp, callWith, makeKey, randomKid, signToken, sleep, startJwksServer } from './helpers.js'

/** `token` with its header's kid replaced: cheap junk that is a well-formed JWT. */
function withKid (token: string, kid: string): string {
  const [header, payload, signature] = token.split('.')
  const decoded = JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>
  return [Buffer.from(JSON.stringify({ ...decoded, kid })).toString('base64url'), payload, signature].join('.')
}

t.test('random-kid flood with a key change in the middle', async (t) => {
  const key1 = makeKey()
  const key2 = makeKey()
  const jwks = await startJwksServer(t, [key1])
  jwks.cacheControl = 'public, max-age=1'
  const cooldown = 1000
  const app = await buildVerifierApp(t, {
    issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, cooldown, keyCacheTtl: 5000, unknownKidCacheMax: 100
  })
  const junk = signToken(key1, jwks.url)
  const started = Date.now()
  let publishedAt = 0
  let floodCount = 0
  let honestCount = 0
  let key2Used = 0
  const honestFailures: number[] = []
  let floodNot401 = 0
  while (floodCount < 2000 || key2Used < 5) {
    const elapsed = Date.now() - started
    if (publishedAt === 0 && elapsed > 700) {
      jwks.keys = [key1.jwk, key2.jwk] // the next key is published before it signs
      publishedAt = Date.now()
    }
    // The issuer signs with the new key only once every verifier honouring max-age has it.
    const signer = publishedAt !== 0 && Date.now() - publishedAt > 1500 ? key2 : key1
    if (signer === key2) key2Used++
    const batch = [callWith(app, signToken(signer, jwks.url)),
      ...Array.from({ length: 50 }, () => callWith(app, withKid(junk, randomKid())))]
    const [honest, ...flood] = await Promise.all(batch)
    honestCount++
    floodCount += flood.length
    if (honest!.statusCode !== 200) honestFailures.push(honest!.statusCode)
    floodNot401 += flood.filter((r) => r.statusCode !== 401).length
    await sleep(40)
  }
  const duration = Date.now() - started
  const allowed = 1 + Math.ceil(duration / cooldown) // the warm-up, then one per window
  t.equal(floodNot401, 0, 'every random kid is 401')
  t.same(honestFailures, [], `${honestCount} honest requests, ${key2Used} with the new key: zero failures`)
  t.ok(jwks.fetches <= allowed, `${jwks.fetches} JWKS fetches for ${floodCount} random kids in ${duration} ms (cooldown ${cooldown} ms, at most ${allowed})`)
  t.comment(`flood: ${floodCount} random-kid requests over ${duration} ms caused ${jwks.fetches} JWKS fetches (cooldown ${cooldown} ms); ${honestCount} honest requests, 0 failures`)
  const stats = app.verifier.stats()
  t.equal(stats.keysCached, 2, 'two keys cached')
  t.ok(stats.unknownKidsCached <= 100, `negative cache bounded: ${stats.unknownKidsCached} <= 100`)
  t.equal(stats.jwksFetches.failed + stats.jwksFetches.timedOut, 0)
  t.equal(stats.jwksLoaded, true)
})

t.test('an unknown kid is answered from the negative cache for one cooldown, then looked up again', async (t) => {
  const key = makeKey()
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, cooldown: 200 })
  await sleep(250) // past the cooldown of the warm-up fetch
  const early = makeKey()
  const stranger = signToken(early, jwks.url)
  t.equal((await callWith(app, stranger)).statusCode, 401, 'a kid nobody published yet: one fetch, then 401')
  const fetches = jwks.fetches
  t.equal((await callWith(app, stranger)).statusCode, 401)
  t.equal(jwks.fetches, fetches, 'the same kid within the cooldown: answered from the negative cache')
  t.equal(app.verifier.stats().unknownKidsCached, 1)
  jwks.keys.push(early.jwk) // the key is published after the junk token came in
  await sleep(250)
  t.equal((await callWith(app, stranger)).statusCode, 200, 'once the cooldown has passed, the kid is looked up again and found')
  t.equal(jwks.fetches, fetches + 1)
})

t.test('a refresh while a fetch is in flight (the background timer, say) joins it: one fetch', async (t) => {
  const jwks = await startJwksServer(t, [makeKey()])
  const counters = { ok: 0, failed: 0, timedOut: 0 }
  const agent = createKeyAgent({ deadline: 1000, timeout: 1000, maxBytes: 1e6, contentType: /json/ }, 'application/json')
  const keys = createIssuerKeys(jwks.url,
    { jwksUrl: jwks.jwksUrl, algorithms: ['RS256'], keyCacheMax: 50, allowedOrigins: [], cooldown: 1000, keyCacheTtl: 300_000, unknownKidCacheMax: 10 },
    createDiscovery(jwks.url, agent, () => {}), agent, counters, pino({ enabled: false }))
  t.teardown(() => { keys.close(); return agent.close() })
  const first = keys.refresh()
  t.equal(keys.refresh(), first, 'the same promise')
  await first
  t.equal(jwks.fetches, 1)
  t.same(counters, { ok: 1, failed: 0, timedOut: 0 })
  t.equal(keys.keysCached, 1)
})
