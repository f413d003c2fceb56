// Key rotation leaves nothing behind: the fast-jwt verifier of a key (and the public key it holds)
// goes once the issuer stops publishing the key, however many rotations there have been.
import { createPublicKey } from 'node:crypto'
import { Session } from 'node:inspector/promises'
import t from 'tap'
import { buildVerifierApp, callWith, makeKey, signToken, sleep, startJwksServer } from './helpers.js'

const ROTATIONS = 20

/** How many public KeyObjects the heap holds, after a full garbage collection (what v8.queryObjects does in Node 22). */
async function publicKeyObjects (): Promise<number> {
  const session = new Session()
  session.connect()
  try {
    const sample = createPublicKey({ key: makeKey(undefined, 'ES256').jwk, format: 'jwk' })
    ;(globalThis as Record<string, unknown>).publicKeyPrototype = Object.getPrototypeOf(sample)
    const { result: prototype } = await session.post('Runtime.evaluate', { expression: 'globalThis.publicKeyPrototype' })
    const { objects } = await session.post('Runtime.queryObjects', { prototypeObjectId: prototype.objectId! })
    const { result } = await session.post('Runtime.callFunctionOn', { objectId: objects.objectId!, functionDeclaration: 'function () { return this.length }', returnByValue: true })
    return (result.value as number) - 1 // the sample
  } finally {
    delete (globalThis as Record<string, unknown>).publicKeyPrototype
    session.disconnect()
  }
}

t.test(`after ${ROTATIONS} rotations, only the published key has a verifier`, async (t) => {
  let key = makeKey(undefined, 'ES256')
  const jwks = await startJwksServer(t, [key])
  const app = await buildVerifierApp(t, { issuer: jwks.url, audience: 'ssot-api', jwksUrl: jwks.jwksUrl, algorithms: ['ES256'], cooldown: 100, keyCacheTtl: 1000 })
  const before = await publicKeyObjects()
  for (let rotation = 0; rotation < ROTATIONS; rotation++) {
    key = makeKey(undefined, 'ES256')
    jwks.keys = [key.jwk] // the previous key retired at once
    await sleep(110) // past the cooldown: the new kid is looked up
    const response = await callWith(app, signToken(key, jwks.url))
    t.equal(response.statusCode, 200, `rotation ${rotation + 1}`, { diagnostic: response.statusCode !== 200 })
  }
  const after = await publicKeyObjects()
  t.comment(`public KeyObjects alive: ${before} before, ${after} after ${ROTATIONS} rotations`)
  t.ok(after - before <= 1, `${after - before} more public keys alive after ${ROTATIONS} rotations`)
  t.equal(app.verifier.stats().keysCached, 1)
})
