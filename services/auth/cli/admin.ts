// What the user and client CLIs share: one name argument, the store of DATABASE_URL, and the exit
// codes 0 done (or nothing to change), 1 error (no such user or client, bad configuration, the
// database), 2 usage. A revocation they write reaches every auth replica's feed by its polling
// (REVOCATION_FEED_POLL_MS), so run them with the services' ACCESS_TOKEN_TTL.
import { parseArgs } from 'node:util'
import { durationSeconds } from '../../shared/config.js'
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { loadAuthEnv } from '../config.js'
import { migrateToLatest } from '../store/migrations.js'
import { createStore, type Store } from '../store/index.js'

function nameArgument (usage: string): string {
  let positionals: string[] = []
  try {
    positionals = parseArgs({ allowPositionals: true }).positionals
  } catch {
    // An unknown option: the usage line says what is accepted.
  }
  if (positionals.length !== 1) {
    console.error(`usage: ${usage}`)
    process.exit(2)
  }
  return positionals[0]!
}

/** Runs `action` on the named user or client; it returns the exit code. */
export async function runAdminCommand (usage: string, action: (store: Store, name: string) => Promise<number>): Promise<void> {
  const name = nameArgument(usage)
  await runOrExit(async () => {
    loadDotEnv()
    const env = loadAuthEnv(process.env)
    const store = createStore({
      url: env.DATABASE_URL,
      accessTokenTtl: durationSeconds(env.ACCESS_TOKEN_TTL),
      refreshTokens: { absoluteTtl: durationSeconds(env.REFRESH_TOKEN_TTL), idleTtl: durationSeconds(env.REFRESH_TOKEN_IDLE_TTL) }
    })
    try {
      await migrateToLatest(store.db)
      process.exitCode = await action(store, name)
    } finally {
      await store.db.destroy()
    }
  })
}

/** Says there is no such user or client; exit code 1. */
export function notFound (what: string): number {
  console.error(`No ${what}; nothing changed.`)
  return 1
}

export const sessions = (count: number) => `${count} session${count === 1 ? '' : 's'}`
