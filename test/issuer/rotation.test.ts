// Rotation of the PEM-file ring: states, the minimum age of the next key, pruning after the retire
// window, file modes and atomic writes. Time is passed in (`now`), so nothing waits.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ensureKeyFiles, MANIFEST_FILE, readManifest, type KeyRecord } from '../../plugins/issuer/key-files.js'
import { activeKeyAge, planRotation, rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import { CLOCK_SKEW_MARGIN, keyTiming } from '../../plugins/issuer/key-timing.js'
import { makeKeysDir, partialPem } from './helpers.js'
import { escapeRegExp } from '../random.js'

const timing = keyTiming({ accessTokenTtl: 900, jwksMaxAge: 300, reloadInterval: 5 })
const later = (seconds: number, from = new Date()) => new Date(from.getTime() + seconds * 1000)
const stateOf = (keys: KeyRecord[], kid: string) => keys.find((key) => key.kid === kid)?.state

t.test('the windows derive from TTL, max-age and the reload interval', async (t) => {
  t.same(timing, { minNextAge: 305, retireWindow: 900 + 305 + CLOCK_SKEW_MARGIN })
})

t.test('a next key younger than minNextAge is not promoted, and nothing is written', async (t) => {
  const dir = await makeKeysDir(t)
  const before = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  const { kid } = (await readManifest(dir)).find((key) => key.state === 'next')!
  await t.rejects(rotateKeyFiles(dir, { ...timing, now: later(304) }), {
    code: 'ISSUER_NEXT_KEY_TOO_YOUNG', message: new RegExp(`next key ${escapeRegExp(kid)} has been published for less than 305 seconds`)
  })
  t.equal(await readFile(join(dir, MANIFEST_FILE), 'utf8'), before)
  t.equal((await readdir(dir)).length, 3, 'no key was generated')
})

t.test('rotation: next → active, active → retired, a new next; files 0600, no temp file left', async (t) => {
  const dir = await makeKeysDir(t)
  const [oldActive, oldNext] = await readManifest(dir) as [KeyRecord, KeyRecord]
  const now = later(305)
  const result = await rotateKeyFiles(dir, { ...timing, now })
  t.match(result, {
    active: { kid: oldNext.kid, state: 'active', activatedAt: now.toISOString() },
    retired: { kid: oldActive.kid, state: 'retired', retiredAt: now.toISOString() },
    next: { state: 'next', createdAt: now.toISOString() },
    pruned: []
  })
  const keys = await readManifest(dir)
  t.same(keys.map((key) => key.state), ['active', 'next', 'retired'])
  t.equal(activeKeyAge(keys[0]!, later(10, now)), 10, 'the active key is aged from its promotion')
  t.equal(activeKeyAge({ ...oldActive, activatedAt: undefined }, later(10, now)),
    (later(10, now).getTime() - Date.parse(oldActive.createdAt)) / 1000, 'or from its creation in older manifests')
  const files = await readdir(dir)
  t.same(files.sort(), [MANIFEST_FILE, ...keys.map((key) => `${key.kid}.pem`)].sort(), 'no temp file left behind')
  for (const file of files) t.equal((await stat(join(dir, file))).mode & 0o777, 0o600, `${file} is mode 0600`)
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'the folder is 0700')
})

t.test('--force promotes a young next key', async (t) => {
  const dir = await makeKeysDir(t)
  const { active } = await rotateKeyFiles(dir, { ...timing, force: true })
  t.equal(stateOf(await readManifest(dir), active.kid), 'active')
})

t.test('retired keys stay for the retire window, then are removed with their PEM file', async (t) => {
  const dir = await makeKeysDir(t)
  const start = new Date()
  const first = await rotateKeyFiles(dir, { ...timing, now: later(305, start) })
  const secondAt = later(305 + timing.retireWindow - 1, start)
  const second = await rotateKeyFiles(dir, { ...timing, now: secondAt })
  t.same(second.pruned, [], 'one second before its window ends, the first retired key stays')
  t.equal(stateOf(await readManifest(dir), first.retired.kid), 'retired')
  const third = await rotateKeyFiles(dir, { ...timing, now: later(305, secondAt) })
  t.same(third.pruned, [first.retired.kid])
  const keys = await readManifest(dir)
  t.equal(stateOf(keys, first.retired.kid), undefined)
  t.same(keys.map((key) => key.state), ['active', 'next', 'retired', 'retired'])
  t.notOk((await readdir(dir)).includes(`${first.retired.kid}.pem`), 'its PEM file is deleted')
})

t.test('hand-made rings: no next key, a retired key without retiredAt, a PEM already gone', async (t) => {
  const dir = await makeKeysDir(t)
  const [active, next] = await readManifest(dir) as [KeyRecord, KeyRecord]
  const old = new Date(Date.now() - 10 * timing.retireWindow * 1000).toISOString()
  const ghost = { kid: 'G'.repeat(43), state: 'retired' as const, createdAt: old }
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ keys: [active, { ...next, state: 'retired', createdAt: old }, ghost] }))
  const result = await rotateKeyFiles(dir, timing)
  t.not(result.active.kid, next.kid, 'with no next key, a new active key is made')
  t.same(result.pruned.sort(), [next.kid, ghost.kid].sort(), 'retired without retiredAt: aged from createdAt')
  t.same((await readManifest(dir)).map((key) => key.state), ['active', 'next', 'retired'])
})

t.test('a PEM that cannot be deleted fails the rotation loudly', async (t) => {
  const dir = await makeKeysDir(t)
  const [active] = await readManifest(dir) as [KeyRecord]
  const old = new Date(Date.now() - 10 * timing.retireWindow * 1000).toISOString()
  const stuck = { kid: 'S'.repeat(43), state: 'retired' as const, createdAt: old, retiredAt: old }
  await mkdir(join(dir, `${stuck.kid}.pem`))
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ keys: [active, stuck] }))
  await t.rejects(rotateKeyFiles(dir, timing), { code: /^E/ })
})

t.test('readers never see a partial manifest while rotations write it', async (t) => {
  const dir = await makeKeysDir(t)
  const state = { writing: true }
  let reads = 0
  const reader = (async () => {
    while (state.writing) {
      JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'))
      reads++
    }
  })()
  for (let i = 0; i < 4; i++) await rotateKeyFiles(dir, { ...timing, force: true })
  state.writing = false
  await reader
  t.ok(reads > 0, `${reads} reads during 4 rotations, every one valid JSON`)
  t.notOk((await readdir(dir)).some((file) => file.endsWith('.tmp')), 'no temp file left behind')
})

t.test('ensureKeyFiles never overwrites a ring', async (t) => {
  const dir = await makeKeysDir(t)
  const before = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  const again = await ensureKeyFiles(dir)
  t.equal(again.created, false)
  t.equal(await readFile(join(dir, MANIFEST_FILE), 'utf8'), before)
  await writeFile(join(dir, MANIFEST_FILE), '{')
  await t.rejects(ensureKeyFiles(dir), { code: 'ISSUER_KEY_INVALID' }, 'nor a corrupt one: it is reported, not replaced')
  t.equal(await readFile(join(dir, MANIFEST_FILE), 'utf8'), '{')
})

t.test('a next key whose file is bad is never promoted', async (t) => {
  const dir = await makeKeysDir(t)
  const before = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  const [, next] = await readManifest(dir) as [KeyRecord, KeyRecord]
  await writeFile(join(dir, `${next.kid}.pem`), partialPem())
  await t.rejects(rotateKeyFiles(dir, { ...timing, force: true }), {
    code: 'ISSUER_KEY_INVALID', message: new RegExp(`${escapeRegExp(next.kid)}\\.pem is unusable: not a PEM private key`)
  })
  t.equal(await readFile(join(dir, MANIFEST_FILE), 'utf8'), before, 'the manifest is untouched')
  t.equal((await readdir(dir)).length, 3, 'no key was generated')
})

t.test('the rotation plan refuses a ring without an active key, naming its source', async (t) => {
  const next = { kid: 'N'.repeat(43), state: 'next' as const, createdAt: new Date().toISOString() }
  t.throws(() => planRotation([next], timing, 'the store'), { code: 'ISSUER_NO_ACTIVE_KEY', message: /the store/ })
})
