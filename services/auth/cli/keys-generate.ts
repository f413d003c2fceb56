// npm run keys:generate: creates the key ring (an active key and the next one) in KEYS_DIR, or in
// the database when KEYS_BACKEND=database.
// Exit codes: 0 created, 1 error (bad configuration, unreadable folder), 2 refused: a ring exists.
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { authAppOptions, loadAuthEnv } from '../config.js'
import { openKeyRing } from '../key-ring.js'

await runOrExit(async () => {
  loadDotEnv()
  const ring = await openKeyRing(authAppOptions(loadAuthEnv(process.env)))
  try {
    const { created, keys } = await ring.ensure()
    if (!created) {
      console.error(`A key ring already exists in ${ring.where} (${keys.length} keys); nothing was overwritten.`)
      console.error('To replace the signing key, run `npm run keys:rotate`.')
      process.exitCode = 2
      return
    }
    console.log(`Created a key ring in ${ring.where} (${ring.protection}):`)
    for (const key of keys) console.log(`  ${key.state.padEnd(7)} ${key.kid}`)
  } finally {
    await ring.close()
  }
})
