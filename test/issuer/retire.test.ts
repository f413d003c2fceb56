// Retiring a retired key before its window ends (a suspected compromise): gone from the ring, the
// PEM folder and the JWKS at once; the active and next keys are refused. And the issuer's
// onRotated callback after an automatic rotation.
import { readdir } from 'node:fs/promises'
import t from 'tap'
import Fastify from 'fastify'
import { readManifest } from '../../plugins/issuer/key-files.js'
import { issuerPlugin, type IssuerPluginOptions } from '../../plugins/issuer/index.js'
import type { RotationResult } from '../../plugins/issuer/key-rotation.js'
import { AUDIENCE, ISSUER, issuerApp, makeKeysDir, waitFor } from './helpers.js'

const jwksKids = async (app: Awaited<ReturnType<typeof issuerApp>>) =>
  ((await app.inject('/.well-known/jwks.json')).json() as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid)

t.test('retireKey removes a retired key from the store, the ring and the JWKS now', async (t) => {
  const app = await issuerApp(t)
  const { retired, active, next } = await app.issuer.rotateKeys({ force: true })
  t.ok((await jwksKids(app)).includes(retired.kid), 'a retired key is published for its window')
  const removed = await app.issuer.retireKey(retired.kid)
  t.match(removed, { kid: retired.kid, state: 'retired', retiredAt: retired.retiredAt })
  t.same(await jwksKids(app), [active.kid, next.kid], 'gone from the JWKS at once')
  t.same(app.issuer.keyRing.keys().map((key) => key.kid), [active.kid, next.kid])
  t.same((await readManifest(app.keysDir)).map((key) => key.kid), [active.kid, next.kid])
  t.notOk((await readdir(app.keysDir)).includes(`${retired.kid}.pem`), 'its private key is deleted')
  await t.rejects(app.issuer.retireKey(retired.kid), { code: 'ISSUER_KEY_NOT_FOUND', statusCode: 404 }, 'once only')
})

t.test('the active and next keys cannot be retired; an unknown kid is not found; nothing is written', async (t) => {
  const app = await issuerApp(t)
  const [active, next] = await readManifest(app.keysDir)
  await t.rejects(app.issuer.retireKey(active!.kid), { code: 'ISSUER_KEY_NOT_RETIRED', statusCode: 409, message: /is active, not retired: rotate first/ })
  await t.rejects(app.issuer.retireKey(next!.kid), { code: 'ISSUER_KEY_NOT_RETIRED', statusCode: 409, message: /is next, not retired/ })
  await t.rejects(app.issuer.retireKey('no-such-kid'), { code: 'ISSUER_KEY_NOT_FOUND', statusCode: 404 })
  t.same(await readManifest(app.keysDir), [active, next])
})

t.test('onRotated is called after each automatic rotation, with what it did', async (t) => {
  const rotations: RotationResult[] = []
  const app = await issuerApp(t, { jwksMaxAge: 0, reloadInterval: 0.05, rotationInterval: 0.3, onRotated: (result) => { rotations.push(result) } })
  const first = app.issuer.keyRing.activeKey().kid
  await waitFor(() => rotations.length > 0)
  t.equal(rotations[0]!.retired.kid, first)
  t.equal(rotations[0]!.active.kid, app.issuer.keyRing.activeKey().kid)
})

t.test('a failing onRotated is logged; the rotation stands', async (t) => {
  const app = await issuerApp(t, { jwksMaxAge: 0, reloadInterval: 0.05, rotationInterval: 0.3, onRotated: async () => { throw new Error('audit store down') } })
  const first = app.issuer.keyRing.activeKey().kid
  await waitFor(() => app.logs.some((line) => line.msg === 'automatic key rotation not recorded: audit store down'))
  t.not(app.issuer.keyRing.activeKey().kid, first)
  t.notOk(app.logs.some((line) => line.msg.startsWith('automatic key rotation postponed')), 'not reported as postponed')
})

t.test('onRotated must be a function', async (t) => {
  const keysDir = await makeKeysDir(t)
  const options = { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: 600, keysDir, onRotated: 'audit' } as unknown as IssuerPluginOptions
  await t.rejects(issuerPlugin(Fastify(), options), { name: 'TypeError', message: /^issuer plugin: option onRotated: must be a function/ })
})
