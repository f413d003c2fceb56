// The running issuer follows the key files: polling picks up rotations, bad files never replace a
// good ring (logged by name), automatic rotation, and polling stops on close.
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { MANIFEST_FILE, readManifest, type KeyRecord } from '../../plugins/issuer/key-files.js'
import { createKeyReloader } from '../../plugins/issuer/key-reloader.js'
import { createFileKeyStore } from '../../plugins/issuer/key-store.js'
import { rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import { keyTiming } from '../../plugins/issuer/key-timing.js'
import { decodeJwt, makeKeysDir, issuerApp, partialPem, waitFor, type LogLine } from './helpers.js'
import { escapeRegExp } from '../random.js'

const subject = { sub: 'user-1', client_id: 'cli', scope: 'profile' }
const force = { minNextAge: 0, retireWindow: 3600, force: true }
const errorsAbout = (logs: LogLine[], text: string) => logs.filter((line) => line.level === 50 && line.msg.includes(text))
const kidOfToken = async (app: Awaited<ReturnType<typeof issuerApp>>) => decodeJwt((await app.issuer.signAccessToken(subject)).accessToken).header.kid

t.test('polling picks up a rotation: new signing kid, new JWKS and ETag, old kid still published', async (t) => {
  const app = await issuerApp(t, { reloadInterval: 0.05 })
  const before = (await app.inject('/.well-known/jwks.json'))
  const oldKid = app.issuer.keyRing.activeKey().kid
  const { active, next } = await rotateKeyFiles(app.keysDir, force)
  await waitFor(() => app.issuer.keyRing.activeKey().kid === active.kid)
  t.equal(await kidOfToken(app), active.kid, 'new tokens carry the promoted kid')
  const after = await app.inject('/.well-known/jwks.json')
  t.not(after.headers.etag, before.headers.etag)
  t.same((after.json() as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid), [active.kid, next.kid, oldKid])
  t.ok(app.logs.some((line) => line.msg === 'key ring reloaded' && line.activeKid === active.kid))
  t.equal(await app.issuer.reloadKeys(), false, 'an unchanged manifest is not reloaded')
})

t.test('a corrupt manifest keeps the ring and is logged once, naming the file', async (t) => {
  const app = await issuerApp(t, { reloadInterval: 0.02 })
  const ring = app.issuer.keyRing.jwks()
  const manifest = join(app.keysDir, MANIFEST_FILE)
  await writeFile(manifest, '{"keys": [{"kid": "half')
  await waitFor(() => errorsAbout(app.logs, manifest).length > 0)
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(errorsAbout(app.logs, manifest).length, 1, `logged once over several polls: ${errorsAbout(app.logs, manifest)[0]!.msg}`)
  t.match(errorsAbout(app.logs, manifest)[0]!.msg, /still using the previous keys: .*keyring\.json is unusable: not valid JSON/)
  t.equal(app.issuer.keyRing.jwks(), ring, 'the ring is unchanged')
  t.equal((await app.inject('/.well-known/jwks.json')).statusCode, 200, 'still serving')
  t.ok(await kidOfToken(app), 'still signing')
  await t.rejects(rotateKeyFiles(app.keysDir, force), { code: 'ISSUER_KEY_INVALID' }, 'rotation refuses a corrupt ring too')
})

t.test('a partial PEM keeps the ring and names the PEM; fixing it lets the reload through', async (t) => {
  const app = await issuerApp(t)
  const { active } = await rotateKeyFiles(app.keysDir, force)
  const pem = join(app.keysDir, `${active.kid}.pem`)
  await rename(pem, `${pem}.aside`)
  await writeFile(pem, partialPem())
  t.equal(await app.issuer.reloadKeys(), false)
  t.match(errorsAbout(app.logs, pem)[0]?.msg, /is unusable: not a PEM private key/)
  t.not(app.issuer.keyRing.activeKey().kid, active.kid, 'the previous key still signs')
  await rm(pem)
  t.equal(await app.issuer.reloadKeys(), false)
  t.match(errorsAbout(app.logs, pem)[1]?.msg, /is unusable: missing/, 'a new problem is logged again')
  await rename(`${pem}.aside`, pem)
  t.equal(await app.issuer.reloadKeys(), true, 'the same manifest is retried until its keys load')
  t.equal(app.issuer.keyRing.activeKey().kid, active.kid)
})

t.test('a deleted manifest keeps the ring', async (t) => {
  const app = await issuerApp(t)
  await rm(join(app.keysDir, MANIFEST_FILE))
  t.equal(await app.issuer.reloadKeys(), false)
  t.match(errorsAbout(app.logs, app.keysDir)[0]?.msg, /No key ring in/)
  t.equal((await app.inject('/.well-known/jwks.json')).statusCode, 200)
})

t.test('reloadInterval 0: no polling; reloadKeys() still works', async (t) => {
  const app = await issuerApp(t, { reloadInterval: 0 })
  const { active } = await rotateKeyFiles(app.keysDir, force)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.not(app.issuer.keyRing.activeKey().kid, active.kid)
  t.equal(await app.issuer.reloadKeys(), true)
  t.equal(await kidOfToken(app), active.kid)
})

t.test('automatic rotation rotates the ring on schedule', async (t) => {
  const app = await issuerApp(t, { jwksMaxAge: 0, reloadInterval: 0.05, rotationInterval: 0.3 })
  const first = app.issuer.keyRing.activeKey().kid
  await waitFor(() => app.issuer.keyRing.activeKey().kid !== first)
  const second = app.issuer.keyRing.activeKey().kid
  await waitFor(() => app.issuer.keyRing.activeKey().kid !== second)
  const keys = await readManifest(app.keysDir)
  t.equal(keys.find((key) => key.kid === first)?.state, 'retired', 'the first key is retired, still published')
  t.ok(app.logs.filter((line) => line.msg === 'key ring rotated automatically').length >= 2)
})

t.test('automatic rotation waits while the next key is too young, and says so once', async (t) => {
  const dir = await makeKeysDir(t)
  const [active, next] = await readManifest(dir) as [KeyRecord, KeyRecord]
  const longAgo = '2020-01-01T00:00:00.000Z'
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ keys: [{ ...active, activatedAt: longAgo }, next] }))
  const app = await issuerApp(t, { keysDir: dir, jwksMaxAge: 300, reloadInterval: 0.02, rotationInterval: 400 })
  await waitFor(() => app.logs.some((line) => line.level === 40))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const warnings = app.logs.filter((line) => line.level === 40)
  t.equal(warnings.length, 1)
  t.match(warnings[0]!.msg, new RegExp(`automatic key rotation postponed: The next key ${escapeRegExp(next.kid)}`))
  t.equal(app.issuer.keyRing.activeKey().kid, active.kid)
})

t.test('closing the app stops polling', async (t) => {
  const app = await issuerApp(t, { reloadInterval: 0.02 })
  const kid = app.issuer.keyRing.activeKey().kid
  await app.close()
  await rotateKeyFiles(app.keysDir, force)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(app.issuer.keyRing.activeKey().kid, kid)
})

t.test('the reloader: start after stop does nothing', async (t) => {
  const keysDir = await makeKeysDir(t)
  const logged: string[] = []
  const log = { info: (o: unknown, m: string) => logged.push(m), error: (o: unknown, m: string) => logged.push(m) }
  const keyRing = { activeKey: () => { throw new Error('not used') }, replace: () => {} }
  const reloader = createKeyReloader({
    keyStore: createFileKeyStore(keysDir),
    keyRing: keyRing as never,
    loadedVersion: '',
    log: log as never,
    reloadInterval: 0.01,
    timing: keyTiming({ accessTokenTtl: 1, jwksMaxAge: 0, reloadInterval: 0.01 })
  })
  await reloader.stop()
  reloader.start()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(logged, [], 'no poll ran')
})
