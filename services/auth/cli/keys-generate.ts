// npm run keys:generate: creates the key ring in KEYS_DIR (an active key and the next one).
// Exit codes: 0 created, 1 error (bad configuration, unreadable folder), 2 refused: a ring exists.
import { resolve } from 'node:path'
import { ensureKeyFiles } from '../../../plugins/issuer/key-files.js'
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { loadAuthEnv } from '../config.js'

await runOrExit(async () => {
  loadDotEnv()
  const dir = resolve(loadAuthEnv(process.env).KEYS_DIR)
  const { created, keys } = await ensureKeyFiles(dir)
  if (!created) {
    console.error(`A key ring already exists in ${dir} (${keys.length} keys); nothing was overwritten.`)
    console.error('To replace the signing key, run `npm run keys:rotate`.')
    process.exit(2)
  }
  console.log(`Created a key ring in ${dir} (private keys mode 0600):`)
  for (const key of keys) console.log(`  ${key.state.padEnd(7)} ${key.kid}`)
})
