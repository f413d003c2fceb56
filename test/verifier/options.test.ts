// The plugin alone on a bare Fastify(): bad options fail at registration with the option's name.
import t from 'tap'
import Fastify from 'fastify'
import verifier, { type VerifierPluginOptions } from '../../plugins/verifier/index.js'

const base = { issuer: 'https://issuer.example', audience: 'api' }
const cases: Array<[Record<string, unknown>, RegExp]> = [
  [{ ...base, audience: '' }, /option audience: /],
  [{ ...base, jwksUrl: 'ftp://x' }, /option jwksUrl: /],
  [{ ...base, algorithms: ['HS256'] }, /option algorithms\.0: /],
  [{ ...base, algorithms: [] }, /option algorithms: /],
  [{ ...base, fetchTimeout: 0 }, /option fetchTimeout: /],
  [{ ...base, clockTolerance: 3600 }, /option clockTolerance: /],
  [{ ...base, cooldown: 60_000, keyCacheTtl: 30_000 }, /option cooldown: must not be greater than keyCacheTtl/],
  [{ ...base, cooldwon: 5 }, /option cooldwon: there is no such option \(check its spelling/],
  [{ ...base, tokenCacheMax: -1 }, /option tokenCacheMax: /],
  [{ ...base, issuer: [] }, /option issuer: /],
  [{ ...base, issuer: [{ issuer: 'https://a.example', jwksUrl: 'nope' }] }, /option issuer\.0\.jwksUrl: /],
  [{ ...base, issuer: [{ issuer: 'https://a.example' }], jwksUrl: 'https://a.example/k' }, /option jwksUrl: set jwksUrl per issuer/],
  [{ ...base, issuer: [{ issuer: 'https://a.example' }, { issuer: 'https://a.example' }] }, /option issuer\.1\.issuer: https:\/\/a.example is listed twice/],
  [{ ...base, issuer: 'urn:example:issuer' }, /option issuer: must be an http\(s\) URL unless a jwksUrl is set/],
  [{ ...base, formatUser: 'name' }, /option formatUser: must be a function/],
  [{ ...base, jwtVerify: 'check' }, /option jwtVerify: needs a namespace/],
  [{ ...base, jwtDecode: 'peek' }, /option jwtDecode: needs a namespace/],
  [{ ...base, namespace: 'has space' }, /option namespace: /],
  [{ ...base, revocations: { failClosedAfter: -1 } }, /option revocations\.failClosedAfter: -1 cannot work/],
  [{ ...base, issuer: [{ issuer: 'https://a.example' }], revocations: { feedUrl: 'https://a.example/r' } }, /option revocations\.feedUrl: set only with a single issuer/],
  // A timer longer than 2^31 - 1 ms fires at once: each timer option says how long it may be.
  ...['keyCacheTtl', 'tokenCacheTtl'].map((option): [Record<string, unknown>, RegExp] =>
    [{ ...base, [option]: 3_000_000_000 }, new RegExp(`option ${option}: 3000000000 cannot work .*; write milliseconds, an integer from 1000 to 2147483647 \\(about 24\\.8 days`)]),
  ...['failClosedAfter', 'idleTimeout', 'maxLifetime'].map((option): [Record<string, unknown>, RegExp] =>
    [{ ...base, revocations: { [option]: 2 ** 31 } }, new RegExp(`option revocations\\.${option}: 2147483648 cannot work .*; write milliseconds, an integer from \\d+ to 2147483647`)]),
  [{ ...base, revocations: { maxEntries: 0 } }, /option revocations\.maxEntries: 0 cannot work .*; write an integer from 1 to 10000000/],
  [{ ...base, revocations: 'off' }, /option revocations: "off" cannot work; write false, or \{ feedUrl\?/],
  [{ ...base, audience: [] }, /option audience: \[\] cannot work; write the aud your tokens carry, as a string \('my-api'\) or a non-empty array of strings/],
  [{ audience: 'api' }, /option issuer: is required; write the exact iss of the tokens/],
  [{ ...base, issuer: () => 'https://a.example' }, /option issuer: a function cannot work; write the exact iss/],
  [{ ...base, formatuser: () => 'x' }, /option formatuser: there is no such option/],
  [{ ...base, algorithms: ['none'] }, /option algorithms\.0: "none" cannot work; write one of RS256, /],
  [{ ...base, issuer: [{ issuer: 'https://a.example', jwks: 'x' }] }, /option issuer\.0\.jwks: there is no such option/]
]

t.test('bad options are refused at registration, naming the option', async (t) => {
  for (const [options, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(verifier, options as unknown as VerifierPluginOptions).ready() }, { name: 'TypeError', message }, String(message))
    await app.close()
  }
})

t.test('good options: defaults applied, Fastify register keys allowed, nothing fetched before ready', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifier, { ...base, issuer: [{ issuer: 'urn:example:issuer', jwksUrl: 'http://127.0.0.1:9/jwks' }], prefix: '/x' } as VerifierPluginOptions)
  t.same(app.verifier.stats(), {
    jwksFetches: { ok: 0, failed: 0, timedOut: 0 },
    keysCached: 0,
    unknownKidsCached: 0,
    tokensCached: 0,
    jwksLoaded: false,
    revocations: { feeds: 0, synced: 0, failedClosed: 0, entries: 0, goneSeconds: 0 }
  })
  t.type(app.authenticate, 'function')
})
