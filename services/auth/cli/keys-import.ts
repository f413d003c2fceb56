// npm run keys:import: copies the PEM key ring of KEYS_DIR (keyring.json and its keys, states and
// dates kept) into DATABASE_URL, sealed with KEYS_ENCRYPTION_KEY, for KEYS_BACKEND=database.
// Running it again with the same ring changes nothing. The PEM files are left in place: delete
// them once every replica runs on the database.
// Exit codes: 0 imported or already there, 1 error (no ring, a bad file, bad configuration),
// 2 refused: the database already holds a different ring (nothing is written).
import { resolve } from 'node:path'
import { loadKeysFromManifest, readManifestText } from '../../../plugins/issuer/key-files.js'
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { authAppOptions, loadAuthEnv } from '../config.js'
import { KeyRingConflictError } from '../store/signing-keys.js'
import { openDatabaseKeyStore } from '../key-ring.js'

await runOrExit(async () => {
  loadDotEnv()
  // The import writes to the database whatever KEYS_BACKEND says now: demand what that backend demands.
  const options = authAppOptions(loadAuthEnv({ ...process.env, KEYS_BACKEND: 'database' }))
  const dir = resolve(options.keysDir)
  const keys = await loadKeysFromManifest(dir, await readManifestText(dir))
  const store = await openDatabaseKeyStore(options)
  try {
    const { imported } = await store.importKeys(keys)
    console.log(imported
      ? `Imported ${keys.length} keys from ${dir} into the database (sealed with KEYS_ENCRYPTION_KEY):`
      : 'The database already holds this key ring; nothing changed:')
    for (const key of keys) console.log(`  ${key.state.padEnd(7)} ${key.kid}`)
    if (imported) console.log('Set KEYS_BACKEND=database on every auth replica, then remove the PEM files.')
  } catch (err) {
    if (!(err instanceof KeyRingConflictError)) throw err
    console.error(`Not imported: ${err.message}. Rotate on the database instead, or import into an empty database.`)
    process.exitCode = 2
  } finally {
    await store.close()
  }
})
