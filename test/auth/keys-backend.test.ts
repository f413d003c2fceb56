// KEYS_BACKEND and KEYS_ENCRYPTION_KEY as an operator meets them: checked at start with one line
// naming the variable, never echoing its value, and a wrong key stops the service before it serves.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import t from 'tap'
import { authAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { parseEncryptionKey } from '../../services/auth/store/key-encryption.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { databaseKeyStore, openDatabaseKeyStore, openKeyRing } from '../../services/auth/key-ring.js'
import { createDatabaseKeyStore } from '../../services/auth/store/signing-keys.js'
import { buildAuth, captureLogs, COOKIE_SECRET, reservePort, runScript, testDir } from '../helper.js'
import { escapeRegExp, seededBytes, testSeed } from '../random.js'
import { eachDatabase, postgresBaseUrl } from '../store/databases.js'

const options = (env: Record<string, string>) => authAppOptions(loadAuthEnv(env))

/** A database at `url` holding a ring sealed with `keyText`. */
async function seedRing (t: Parameters<Parameters<typeof eachDatabase>[2]>[0], url: string, keyText: string) {
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  await createDatabaseKeyStore(db, { encryptionKey: parseEncryptionKey(keyText), postgres: !url.startsWith('sqlite:') }).ensure()
}

t.test('KEYS_BACKEND defaults to files; database needs a 32-byte KEYS_ENCRYPTION_KEY', async (t) => {
  t.equal(options({}).keysBackend, 'files')
  t.notOk('keysEncryptionKey' in options({}))
  t.throws(() => options({ KEYS_BACKEND: 'database' }), /^Invalid configuration: KEYS_BACKEND=database needs KEYS_ENCRYPTION_KEY/)
  t.throws(() => options({ KEYS_BACKEND: 'vault' }), /Invalid configuration: .*KEYS_BACKEND/)
  const seed = testSeed()
  const key = seededBytes(seed, 'key', 32)
  for (const text of [key.toString('base64'), key.toString('base64url')]) {
    const parsed = options({ KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: text }).keysEncryptionKey!
    t.ok(parsed.equals(parseEncryptionKey(key.toString('base64'))), `base64 and base64url are the same key (TEST_SEED=${seed})`)
    const keyBytes = new RegExp(`${key.toString('hex')}|${escapeRegExp(text.slice(0, 12))}`)
    t.notMatch(inspect(parsed), keyBytes, `printing it shows no key bytes (TEST_SEED=${seed})`)
  }
  const wrongLengths = [seededBytes(seed, 'short', 16).toString('base64'), seededBytes(seed, 'long', 33).toString('base64')]
  for (const text of [...wrongLengths, 'correct horse battery staple!']) {
    t.throws(() => options({ KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: text }), {
      message: /^Invalid configuration: KEYS_ENCRYPTION_KEY must be 32 random bytes in base64/
    }, `refused (TEST_SEED=${seed})`)
    try { options({ KEYS_ENCRYPTION_KEY: text }) } catch (err) {
      t.notOk((err as Error).message.includes(text), `the message never echoes the value, checked with files too (TEST_SEED=${seed})`)
    }
  }
})

t.test('the database key store is never built without its key', async (t) => {
  t.throws(() => databaseKeyStore(null as never, { keysDir: 'keys', keysBackend: 'database', databaseUrl: 'sqlite::memory:' }),
    { name: 'TypeError', message: /needs keysEncryptionKey/ })
})

t.test('openKeyRing: the CLIs\' ensure and rotate on files and on the database; a failed migration closes the connection', async (t) => {
  const dir = testDir(t)
  const settings = { KEYS_DIR: join(dir, 'keys'), DATABASE_URL: `sqlite:${join(dir, 'keys.sqlite')}`, KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
  for (const backend of ['files', 'database']) {
    const ring = await openKeyRing(options({ ...settings, KEYS_BACKEND: backend }))
    t.equal((await ring.ensure()).created, true, `${backend}: ${ring.where} (${ring.protection})`)
    t.match(await ring.rotate({ minNextAge: 0, retireWindow: 3600, force: true }), { pruned: [] })
    await ring.close()
  }
  const { port, close } = await reservePort()
  await close()
  await t.rejects(openDatabaseKeyStore(options({ ...settings, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none` })),
    { code: 'AUTH_STORE_UNAVAILABLE' })
})

t.test('a rotation (existing: true) works on the database it finds and never creates one', async (t) => {
  const dir = testDir(t)
  const settings = { KEYS_BACKEND: 'database', KEYS_DIR: join(dir, 'keys'), KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
  const url = `sqlite:${join(dir, 'keys.sqlite')}`
  await seedRing(t, url, settings.KEYS_ENCRYPTION_KEY)
  const ring = await openKeyRing(options({ ...settings, DATABASE_URL: url }), true)
  t.match(await ring.rotate({ minNextAge: 0, retireWindow: 3600, force: true }), { pruned: [] })
  await ring.close()

  await t.rejects(openKeyRing(options({ ...settings, DATABASE_URL: `sqlite:${join(dir, 'typo.sqlite')}` }), true),
    { name: 'Error', message: `No database at ${join(dir, 'typo.sqlite')} (DATABASE_URL); nothing changed.` })
  t.notOk(existsSync(join(dir, 'typo.sqlite')), 'no file was created')
  const { port, close } = await reservePort()
  await close()
  await t.rejects(openKeyRing(options({ ...settings, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none` }), true),
    { code: 'AUTH_STORE_UNAVAILABLE' }, 'a server that does not answer is not "no database"')
  const base = postgresBaseUrl(t)
  if (!base) return
  const missing = new URL(base)
  missing.pathname = '/ssot_no_such_database'
  await t.rejects(openKeyRing(options({ ...settings, DATABASE_URL: missing.href }), true),
    { message: `No database ssot_no_such_database at ${missing.host} (DATABASE_URL); nothing changed.` })
})

t.test('a wrong KEYS_ENCRYPTION_KEY stops the service at start, and the key is never logged', async (t) => {
  const url = `sqlite:${t.testdir()}/auth.sqlite`
  const right = randomBytes(32).toString('base64')
  const wrong = randomBytes(32).toString('base64')
  await seedRing(t, url, right)
  const logs = captureLogs('trace')
  await t.rejects(buildAuth(t, { DATABASE_URL: url, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: wrong }, { logger: logs.logger }), {
    code: 'AUTH_SIGNING_KEY_UNREADABLE', message: /KEYS_ENCRYPTION_KEY is not the key it was encrypted with/
  })
  const logged = JSON.stringify(logs.lines)
  t.notOk(logged.includes(wrong) || logged.includes(right), `${logs.lines.length} log lines, no key in them`)
})

eachDatabase(t, 'server.ts with a wrong KEYS_ENCRYPTION_KEY exits 1 with one line naming it', async (t, url) => {
  const right = randomBytes(32).toString('base64')
  const wrong = randomBytes(32).toString('base64')
  await seedRing(t, url, right)
  const result = runScript('services/auth/server.ts', [], { DATABASE_URL: url, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: wrong, AUTH_PORT: '0', COOKIE_SECRET })
  t.equal(result.status, 1)
  t.match(result.stderr.trim(), /^Signing key [\w-]{43} in the database cannot be decrypted: KEYS_ENCRYPTION_KEY is not the key/)
  t.notOk(`${result.stdout}${result.stderr}`.includes(wrong), 'the key is not printed')
})
