// Which published keys the verifier will use: JWKs carrying private members, `key_ops` without
// "verify", `use` other than "sig", small RSA moduli and duplicate kids are refused and logged;
// and a service started before its issuer loads the keys as soon as the issuer answers.
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import t from 'tap'
import { captureLogs, reservePort } from '../helper.js'
import { buildVerifierApp, callWith, makeKey, signToken, sleep, startJwksServer } from './helpers.js'

t.test('refused JWKs never verify a token, and each refusal is logged once', async (t) => {
  // One RSA key published under several kids, each JWK spoiled in one way.
  const base = makeKey()
  const as = (kid: string) => ({ kid, privatePem: base.privatePem })
  const [good, withPrivate, encryptOnly, verifyOps, forEncryption, twin] = ['good', 'private', 'encrypt', 'verify', 'enc', 'twin'].map(as) as [ReturnType<typeof as>, ...Array<ReturnType<typeof as>>]
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const smallKid = 'small-rsa'
  const privateJwk = { ...base.jwk, ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: withPrivate!.kid }
  const jwks = await startJwksServer(t)
  jwks.keys = [
    { ...base.jwk, kid: good.kid },
    privateJwk,
    { ...base.jwk, kid: encryptOnly!.kid, key_ops: ['encrypt'] },
    { ...base.jwk, kid: verifyOps!.kid, key_ops: ['verify'] },
    { ...base.jwk, kid: forEncryption!.kid, use: 'enc' },
    { ...small.publicKey.export({ format: 'jwk' }), kid: smallKid, alg: 'RS256' },
    { ...base.jwk, kid: twin!.kid },
    { ...makeKey().jwk, kid: twin!.kid }
  ]
  const logs = captureLogs('warn')
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl }, logs.logger)
  const status = async (key: Parameters<typeof signToken>[0]) => (await callWith(app, signToken(key, jwks.url))).statusCode
  t.equal(await status(good), 200, 'a plain public key')
  t.equal(await status(verifyOps!), 200, 'key_ops ["verify"]')
  t.equal(await status(withPrivate!), 401, 'a JWK carrying d, p, q...: its own (public) token is not accepted')
  t.equal(await status(encryptOnly!), 401, 'key_ops ["encrypt"]')
  t.equal(await status(forEncryption!), 401, 'use "enc"')
  t.equal(await status({ kid: smallKid, privatePem: small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), 401, 'RSA 1024')
  t.equal(await status(twin!), 401, 'a kid published twice')
  t.equal(app.verifier.stats().keysCached, 2)
  const refused = logs.lines.filter((line) => line.msg === 'JWKS keys refused')
  t.equal(refused.length, 1, 'logged once, not on every refresh')
  t.match(refused[0]!.refused, [
    /private key members/, /key_ops do not include "verify"/, /use is not "sig"/, /2048 bits/, /same kid/, /same kid/
  ])
  t.notMatch(JSON.stringify(logs.lines), privateJwk.d, 'the private member is not logged')
})

t.test('a service started before its issuer verifies soon after the issuer answers', async (t) => {
  const key = makeKey()
  const { port, close } = await reservePort()
  await close()
  const issuer = `http://127.0.0.1:${port}`
  const logs = captureLogs('warn')
  // The default cooldown (10 s) is not what paces the first fetches.
  const app = await buildVerifierApp(t, { issuer, audience: 'ssot-api' }, logs.logger)
  const token = signToken(key, issuer)
  t.equal((await callWith(app, token)).statusCode, 503, 'no keys yet: 503')
  await sleep(1500)
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] })))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const answering = Date.now()
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  while (!app.verifier.stats().jwksLoaded) await sleep(20)
  t.comment(`keys loaded ${Date.now() - answering} ms after the issuer answered`)
  t.equal((await callWith(app, token)).statusCode, 200)
  t.ok(app.verifier.stats().jwksFetches.failed >= 3, 'retried quickly while the issuer was down')
  t.equal(logs.lines.filter((line) => /JWKS fetch failed/.test(line.msg)).length, 1, 'the same failure is logged once')
})
