// npm run user:add -- <username> [--roles admin,editor] [--role admin]…
// The password is read from stdin (piped) or typed at a hidden prompt, never from argv, where
// it would sit in the shell history and in every `ps` listing.
import { parseArgs } from 'node:util'
import { createInterface } from 'node:readline'
import { loadDotEnv } from '../../shared/server.js'
import { cliActor, createAdminActions } from '../admin/actions.js'
import { loadAuthEnv } from '../config.js'
import { createDatabase } from '../store/database.js'
import { createStore } from '../store/index.js'
import { storeOptions } from './admin.js'
import { migrateToLatest } from '../store/migrations.js'
import { usernameProblem } from '../store/users.js'

async function readPassword (): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = ''
    for await (const chunk of process.stdin) text += chunk
    return text.replace(/\r?\n$/, '')
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  process.stdout.write('Password: ')
  // Mute the echo: readline writes each typed character through _writeToOutput.
  ;(rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => {}
  const password = await new Promise<string>((resolve) => rl.question('', resolve))
  rl.close()
  process.stdout.write('\n')
  return password
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { roles: { type: 'string', default: '' }, role: { type: 'string', multiple: true, default: [] } } })
const username = positionals[0]
if (!username || positionals.length > 1) {
  console.error('usage: npm run user:add -- <username> [--roles admin,editor] [--role admin]…   (password on stdin or at the prompt)')
  process.exit(2)
}
// The rule POST /auth/login applies: a name it would refuse could never log in.
const problem = usernameProblem(username)
if (problem) {
  console.error(`User ${JSON.stringify(username)} not created: ${problem}`)
  process.exit(2)
}

loadDotEnv()
const env = loadAuthEnv(process.env)
const password = await readPassword()
if (password.length < 8 || password.length > 256) {
  console.error('The password must be 8 to 256 characters long.')
  process.exit(2)
}
const db = createDatabase({ url: env.DATABASE_URL })
try {
  await migrateToLatest(db)
  const roles = [...values.roles.split(','), ...values.role].map((role) => role.trim()).filter(Boolean)
  const store = createStore(storeOptions(env), db)
  const created = await createAdminActions(store).users.create(await cliActor(), { username, password, roles, temporary: false })
  console.log(created ? `User ${username} created.` : `User ${username} already exists; nothing changed.`)
  process.exitCode = created ? 0 : 1
} finally {
  await db.destroy()
}
