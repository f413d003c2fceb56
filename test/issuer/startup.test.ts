// The issuer refuses to start on bad keys or bad options, naming the file or the option.
import { generateKeyPairSync } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import Fastify from 'fastify'
import issuer, { issuerPlugin, type IssuerPluginOptions } from '../../plugins/issuer/index.js'
import { MANIFEST_FILE } from '../../plugins/issuer/key-files.js'
import { createKeyRing } from '../../plugins/issuer/key-ring.js'
import { createFileKeyStore } from '../../plugins/issuer/key-store.js'
import { AUDIENCE, fakeKid, makeKeysDir, ISSUER, issuerApp, pemOf, writeRing } from './helpers.js'
import { escapeRegExp } from '../random.js'

async function startWith (keysDir: string, options: Partial<IssuerPluginOptions> = {}) {
  const app = Fastify()
  try {
    await app.register(issuer, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: 600, keysDir, ...options })
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('a missing key ring: ISSUER_KEY_RING_MISSING naming the folder', async (t) => {
  const dir = join(t.testdir(), 'nowhere')
  await t.rejects(startWith(dir), { code: 'ISSUER_KEY_RING_MISSING', message: new RegExp(escapeRegExp(dir)) })
})

t.test('bad key files: ISSUER_KEY_INVALID naming the file', async (t) => {
  const rsa1024 = pemOf('rsa', 1024)
  const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
  const cases: Array<[string, string | null, RegExp]> = [
    ['missing PEM', null, /missing/],
    ['EC key', pemOf('ec'), /a ec key, RS256 needs RSA/],
    ['1024-bit RSA', rsa1024, /1024-bit RSA, at least 2048/],
    ['not a PEM', 'hello', /not a PEM private key/],
    ['PEM of another key (PKCS#1)', pkcs1, /its thumbprint is/]
  ]
  for (const [name, pem, reason] of cases) {
    const dir = join(t.testdir(), name.replace(/\W+/g, '-'))
    await writeRing(dir, [{ kid: fakeKid('A'), pem }])
    const file = join(dir, `${fakeKid('A')}.pem`)
    await t.rejects(startWith(dir), { code: 'ISSUER_KEY_INVALID', message: reason }, name)
    await t.rejects(startWith(dir), { message: new RegExp(escapeRegExp(file)) }, `${name}: names ${file}`)
  }
})

t.test('an unreadable PEM (a folder where the file should be) is named', async (t) => {
  const dir = join(t.testdir(), 'keys')
  await writeRing(dir, [{ kid: fakeKid('B'), pem: null }])
  await mkdir(join(dir, `${fakeKid('B')}.pem`))
  await t.rejects(startWith(dir), { code: 'ISSUER_KEY_INVALID', message: /BBBB\.pem is unusable: unreadable/ })
})

t.test('a bad manifest is named', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"keys": [', /keyring\.json is unusable: not valid JSON/],
    ['not a manifest', '{"keys": [{"kid": "x"}]}', /not a key ring manifest/],
    ['no active key', JSON.stringify({ keys: [] }), /names 0 active keys/],
    ['two active keys', JSON.stringify({
      keys: ['C', 'D'].map((c) => ({ kid: fakeKid(c), state: 'active', createdAt: new Date().toISOString() }))
    }), /names 2 active keys/]
  ]
  for (const [name, text, reason] of cases) {
    const dir = join(t.testdir(), name.replace(/\W+/g, '-'))
    await mkdir(dir)
    await writeFile(join(dir, MANIFEST_FILE), text)
    await t.rejects(startWith(dir), { code: 'ISSUER_KEY_INVALID', message: reason }, name)
  }
  const unreadable = join(t.testdir(), 'unreadable')
  await mkdir(join(unreadable, MANIFEST_FILE), { recursive: true })
  await t.rejects(startWith(unreadable), { code: 'ISSUER_KEY_INVALID', message: /keyring\.json is unusable/ }, 'unreadable manifest')
})

t.test('option errors name the option', async (t) => {
  const dir = await makeKeysDir(t)
  await t.rejects(startWith(dir, { issuer: '' }), { name: 'TypeError', message: /^issuer plugin: option issuer:/ })
  await t.rejects(startWith(dir, { jwksMaxAge: -1 }), { message: /option jwksMaxAge:/ })
  await t.rejects(startWith(dir, { accessTokenTtl: 1.5 }), { message: /option accessTokenTtl:/ })
  await t.rejects(startWith(dir, { reloadInterval: -1 }), { message: /option reloadInterval:/ })
  await t.rejects(startWith(dir, { rotationInterval: 60, reloadInterval: 0 }), { message: /option rotationInterval: needs reloadInterval > 0/ })
  await t.rejects(startWith(dir, { rotationInterval: 60, jwksMaxAge: 300, reloadInterval: 5 }),
    { message: /option rotationInterval: must be at least jwksMaxAge \+ reloadInterval \(305 s\)/ })
  await t.rejects(issuerPlugin(Fastify(), null as unknown as IssuerPluginOptions), { message: /option \(root\):/ })
  await t.rejects(startWith(dir, { keyStore: createFileKeyStore(dir) }), { message: /option keysDir: give exactly one of keysDir and keyStore/ })
  await t.rejects(issuerPlugin(Fastify(), { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: 600 }),
    { message: /option keysDir: give exactly one of keysDir and keyStore/ })
})

t.test('a key store given as keyStore serves the ring instead of keysDir', async (t) => {
  const dir = await makeKeysDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(issuer, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: 600, keyStore: createFileKeyStore(dir) })
  t.equal(app.issuer.keyRing.keys().length, 2)
})

t.test('a good ring loads, and the ring in memory demands an active key', async (t) => {
  const app = await issuerApp(t)
  t.equal(app.issuer.keyRing.keys().length, 2, 'active and next are loaded')
  t.throws(() => createKeyRing([], 'somewhere'), { code: 'ISSUER_NO_ACTIVE_KEY', message: /somewhere/ })
})
