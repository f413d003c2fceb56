// The key CLIs on the database backend, as real child processes: keys:import moves a PEM ring in
// (idempotent, refusing a different ring), and a service on KEYS_BACKEND=database then signs with
// the imported active kid; keys:generate and keys:rotate work on the database ring too.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { readManifest } from '../../plugins/issuer/key-files.js'
import { rotateKeyFiles } from '../../plugins/issuer/key-rotation.js'
import { buildAuth, makeKeysDir, runCli } from '../helper.js'
import { decodeJwt } from '../issuer/helpers.js'
import { eachDatabase } from './databases.js'
import { escapeRegExp } from '../random.js'

/** Runs a key CLI with `env`; never throws. */
const cli = (script: string, env: Record<string, string>, args: string[] = []) => runCli(script, args, env)

const subject = { sub: 'user-1', client_id: 'cli-test', scope: 'profile' }

eachDatabase(t, 'keys:import', async (t, url) => {
  const keysDir = await makeKeysDir(t)
  const [active, next] = await readManifest(keysDir)
  const env = { DATABASE_URL: url, KEYS_DIR: keysDir, KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64url') }

  const noKey = await cli('keys-import', { DATABASE_URL: url, KEYS_DIR: keysDir })
  t.equal(noKey.code, 1)
  t.match(noKey.stderr, /KEYS_BACKEND=database needs KEYS_ENCRYPTION_KEY/)

  const imported = await cli('keys-import', env)
  t.equal(imported.code, 0, imported.stderr)
  t.match(imported.stdout, new RegExp(`Imported 2 keys[^]*active  ${escapeRegExp(active!.kid)}[^]*next    ${escapeRegExp(next!.kid)}`))
  const again = await cli('keys-import', env)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /already holds this key ring; nothing changed/)

  await rotateKeyFiles(keysDir, { minNextAge: 0, retireWindow: 3600, force: true })
  const conflict = await cli('keys-import', env)
  t.equal(conflict.code, 2)
  t.match(conflict.stderr, /Not imported: The database already holds a different key ring \(2 keys\)/)

  const auth = await buildAuth(t, { ...env, KEYS_BACKEND: 'database' })
  t.equal(decodeJwt((await auth.issuer.signAccessToken(subject)).accessToken).header.kid, active!.kid, 'the service signs with the imported active kid')
  t.same(auth.issuer.keyRing.keys().map((key) => key.kid).sort(), [active!.kid, next!.kid].sort())
})

eachDatabase(t, 'keys:generate and keys:rotate with KEYS_BACKEND=database', async (t, url) => {
  const env = { DATABASE_URL: url, KEYS_BACKEND: 'database', KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
  const created = await cli('keys-generate', env)
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /Created a key ring in the database .*sealed with KEYS_ENCRYPTION_KEY/)
  const young = await cli('keys-rotate', env)
  t.equal(young.code, 2)
  t.match(young.stderr, /Not rotated: The next key/)
  const forced = await cli('keys-rotate', env, ['--force'])
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stdout, /Rotated the key ring in the database/)
  const auth = await buildAuth(t, env)
  t.same(auth.issuer.keyRing.keys().map((key) => key.state).sort(), ['active', 'next', 'retired'], 'the service loads the rotated ring')
})
