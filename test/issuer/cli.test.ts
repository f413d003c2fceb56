// keys:generate and keys:rotate as real child processes, reading KEYS_DIR from the environment.
import { execFile } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { readManifest } from '../../plugins/issuer/key-files.js'
import { NO_CHILD_COVERAGE } from '../helper.js'
import { escapeRegExp } from '../random.js'

const run = promisify(execFile)

/** Runs a CLI with only the variables given (no .env from the environment); never throws. */
async function cli (script: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `services/auth/cli/${script}.ts`, ...args], {
      env: { PATH: process.env.PATH!, ...NO_CHILD_COVERAGE, ...env }, timeout: 60_000
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number, stdout: string, stderr: string }
    return { code, stdout, stderr }
  }
}

t.test('keys:generate creates a ring once, then refuses to overwrite it', async (t) => {
  const dir = join(t.testdir(), 'keys')
  const created = await cli('keys-generate', { KEYS_DIR: dir })
  t.equal(created.code, 0, created.stderr)
  const keys = await readManifest(dir)
  t.same(keys.map((key) => key.state), ['active', 'next'])
  t.match(created.stdout, new RegExp(`Created a key ring in ${escapeRegExp(dir)}[^]*active  ${escapeRegExp(keys[0]!.kid)}[^]*next    ${escapeRegExp(keys[1]!.kid)}`))
  for (const file of await readdir(dir)) t.equal((await stat(join(dir, file))).mode & 0o777, 0o600, `${file} is 0600`)

  const again = await cli('keys-generate', { KEYS_DIR: dir })
  t.equal(again.code, 2)
  t.match(again.stderr, /A key ring already exists .* nothing was overwritten/)
  t.same(await readManifest(dir), keys, 'the ring is untouched')
})

t.test('keys:rotate refuses a young next key (exit 2), rotates with --force or once it is old enough', async (t) => {
  const dir = join(t.testdir(), 'keys')
  t.equal((await cli('keys-generate', { KEYS_DIR: dir })).code, 0)
  const [active, next] = await readManifest(dir)

  const young = await cli('keys-rotate', { KEYS_DIR: dir })
  t.equal(young.code, 2)
  t.match(young.stderr, new RegExp(`Not rotated: The next key ${escapeRegExp(next!.kid)} has been published for less than 305 seconds.*--force`))
  t.same(await readManifest(dir), [active, next], 'nothing changed')

  const forced = await cli('keys-rotate', { KEYS_DIR: dir }, ['--force'])
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stdout, new RegExp(`active  ${escapeRegExp(next!.kid)}[^]*retired ${escapeRegExp(active!.kid)}[^]*Forced`))

  // With JWKS_MAX_AGE=0 and no polling, the new next key is old enough at once.
  const due = await cli('keys-rotate', { KEYS_DIR: dir, JWKS_MAX_AGE: '0', KEYS_RELOAD_INTERVAL: '0' })
  t.equal(due.code, 0, due.stderr)
  t.notMatch(due.stdout, /Forced/)
  t.same((await readManifest(dir)).map((key) => key.state), ['active', 'next', 'retired', 'retired'])
})

t.test('keys:rotate without a ring, or with bad configuration, exits 1 with one clear line', async (t) => {
  const missing = await cli('keys-rotate', { KEYS_DIR: join(t.testdir(), 'none') })
  t.equal(missing.code, 1)
  t.match(missing.stderr, /No key ring in .*none: run `npm run keys:generate`/)
  const bad = await cli('keys-rotate', { KEYS_DIR: t.testdir(), JWKS_MAX_AGE: 'soon' })
  t.equal(bad.code, 1)
  t.match(bad.stderr, /Invalid configuration: .*JWKS_MAX_AGE/)
})
