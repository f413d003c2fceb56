// A configured issuer that is not what the issuer calls itself (a trailing slash, localhost for
// 127.0.0.1): every token would be refused as from an untrusted issuer. The issuer's discovery
// document says which value is right, and the verifier logs both, once, at error level.
import t from 'tap'
import { captureLogs } from '../helper.js'
import { buildVerifierApp, callWith, makeKey, reasonsOf, signToken, sleep, startFeedIssuer } from './helpers.js'

const key = makeKey()

for (const [name, configured] of [['a trailing slash', (url: string) => `${url}/`], ['localhost for 127.0.0.1', (url: string) => url.replace('127.0.0.1', 'localhost')]] as const) {
  t.test(`${name}: logged once at error level, naming both values`, async (t) => {
    const issuer = await startFeedIssuer(t, [key])
    const logs = captureLogs('warn')
    const app = await buildVerifierApp(t, {
      issuer: configured(issuer.url), audience: 'ssot-api', discovery: true, revocations: {}, cooldown: 100, keyCacheTtl: 1000
    }, logs.logger)
    const refused = await callWith(app, signToken(key, issuer.url))
    t.equal(refused.statusCode, 401)
    t.same(reasonsOf(app), ['wrong_issuer'])
    await sleep(600) // the JWKS and the feed each read the document again meanwhile
    const errors = logs.lines.filter((line) => line.level === 50)
    t.equal(errors.length, 1, 'once')
    t.match(errors[0], { configured: configured(issuer.url), discovered: issuer.url, msg: new RegExp(`names it "${issuer.url}", not "${configured(issuer.url)}" as configured`) })
  })
}
