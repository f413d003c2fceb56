// What the user and client CLIs share: one name argument, checked by the rules the HTTP API
// applies; the existing database of DATABASE_URL (one that does not exist is refused, never
// created); and the exit codes 0 done (or nothing to change), 1 error (no such user or client, no
// such database, bad configuration), 2 usage. A revocation they write reaches every auth
// replica's feed by its polling (REVOCATION_FEED_POLL_MS), so run them with the services'
// ACCESS_TOKEN_TTL.
import { parseArgs } from 'node:util'
import { durationSeconds } from '../../shared/config.js'
import { loadDotEnv, runOrExit } from '../../shared/server.js'
import { loadAuthEnv, type AuthEnv } from '../config.js'
import { openExistingDatabase } from '../store/database.js'
import { createStore, type Store } from '../store/index.js'
import { cliActor, createAdminActions, type Actor, type AdminActions } from '../admin/actions.js'

/** The one positional argument; exits 2 with `usage` otherwise, or with `problem`'s answer when it is not a valid name. */
function nameArgument (usage: string, problem: (name: string) => string | undefined): string {
  let positionals: string[] = []
  try {
    positionals = parseArgs({ allowPositionals: true }).positionals
  } catch {
    // An unknown option: the usage line says what is accepted.
  }
  if (positionals.length !== 1) exitWith(2, `usage: ${usage}`)
  const why = problem(positionals[0]!)
  if (why) exitWith(2, `${JSON.stringify(positionals[0])} is refused: ${why}; nothing changed.`)
  return positionals[0]!
}

/** Prints `message` on stderr and exits with `code`. */
export function exitWith (code: number, message: string): never {
  console.error(message)
  process.exit(code)
}

/** The store of DATABASE_URL, which must exist; the caller destroys `store.db`. */
export async function openExistingStore (env: AuthEnv): Promise<Store> {
  const options = storeOptions(env)
  return createStore(options, await openExistingDatabase(options))
}

/** The store settings of the environment (DATABASE_URL and the lifetimes). */
export function storeOptions (env: AuthEnv) {
  return {
    url: env.DATABASE_URL,
    accessTokenTtl: durationSeconds(env.ACCESS_TOKEN_TTL),
    refreshTokens: { absoluteTtl: durationSeconds(env.REFRESH_TOKEN_TTL), idleTtl: durationSeconds(env.REFRESH_TOKEN_IDLE_TTL) }
  }
}

export interface AdminCommand {
  usage: string
  /** Why the argument cannot be what the command works on (usernameProblem, clientIdProblem), or undefined. */
  problem: (name: string) => string | undefined
  /** Runs on the named user or client, through `admin` (the admin API's actions, recorded in the audit trail as `by`); returns the exit code. */
  action: (store: Store, name: string, env: AuthEnv, admin: { actions: AdminActions, by: Actor }) => Promise<number>
}

export async function runAdminCommand ({ usage, problem, action }: AdminCommand): Promise<void> {
  const name = nameArgument(usage, problem)
  await runOrExit(async () => {
    loadDotEnv()
    const env = loadAuthEnv(process.env)
    const store = await openExistingStore(env)
    try {
      process.exitCode = await action(store, name, env, { actions: createAdminActions(store), by: await cliActor() })
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
