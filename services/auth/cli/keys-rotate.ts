// npm run keys:rotate [-- --force]: next → active, active → retired, a new next key, and retired
// keys past their window removed, in KEYS_DIR or in the database (KEYS_BACKEND=database). Running
// auth services pick the change up by polling (KEYS_RELOAD_INTERVAL); no restart.
// Exit codes: 0 rotated, 1 error (no ring, a bad key, bad configuration), 2 refused: the next key
// has not been published for JWKS_MAX_AGE + KEYS_RELOAD_INTERVAL yet (--force overrides).
import { NextKeyTooYoungError } from '../../../plugins/issuer/errors.js'
import { keyTiming } from '../../../plugins/issuer/key-timing.js'
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { authAppOptions, loadAuthEnv } from '../config.js'
import { openKeyRing } from '../key-ring.js'
import { cliActor, createAdminActions } from '../admin/actions.js'
import { openExistingStore } from './admin.js'

await runOrExit(async () => {
  loadDotEnv()
  const env = loadAuthEnv(process.env)
  const options = authAppOptions(env)
  const timing = keyTiming({ ...options, reloadInterval: options.keysReloadInterval })
  const force = process.argv.includes('--force')
  const ring = await openKeyRing(options, true)
  // The rotation is recorded in the audit trail of the database, when there is one.
  const store = await openExistingStore(env).catch(() => undefined)
  let result
  try {
    const rotate = () => ring.rotate({ ...timing, force })
    result = store ? await createAdminActions(store).keys.rotate(await cliActor(), rotate, force) : await rotate()
  } catch (err) {
    if (!(err instanceof NextKeyTooYoungError)) throw err
    console.error(`Not rotated: ${err.message} (--force).`)
    process.exitCode = 2
    return
  } finally {
    await ring.close()
    await store?.db.destroy()
  }
  const { active, retired, next, pruned } = result
  console.log(`Rotated the key ring in ${ring.where}:`)
  console.log(`  active  ${active.kid}  signs new tokens`)
  console.log(`  retired ${retired.kid}  still published for ${timing.retireWindow} s, so its tokens keep verifying`)
  console.log(`  next    ${next.kid}  published now, may be promoted in ${timing.minNextAge} s`)
  for (const kid of pruned) console.log(`  removed ${kid}  (its window had passed)`)
  if (!store) console.log('Not recorded in the audit trail: the database of DATABASE_URL does not exist yet.')
  if (force) console.log('Forced: verifiers that cached the JWKS before the next key appeared will need to refetch it.')
  console.log('A running auth service picks this up within KEYS_RELOAD_INTERVAL, without a restart.')
})
