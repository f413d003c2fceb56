// npm run user:add -- <username> [--roles admin,editor]
// The password is read from stdin (piped) or typed at a hidden prompt, never from argv, where
// it would sit in the shell history and in every `ps` listing.
import { parseArgs } from 'node:util'
import { createInterface } from 'node:readline'
import { loadDotEnv } from '../../shared/server.js'
import { ensureUser } from '../accounts.js'
import { loadAuthEnv } from '../config.js'
import { createDatabase } from '../store/database.js'
import { migrateToLatest } from '../store/migrations.js'
import { createUserRepository, usernameProblem } from '../store/users.js'

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

const { positionals, values } = parseArgs({ allowPositionals: true, options: { roles: { type: 'string', default: '' } } })
const username = positionals[0]
if (!username || positionals.length > 1) {
  console.error('usage: npm run user:add -- <username> [--roles admin,editor]   (password on stdin or at the prompt)')
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
  const roles = values.roles.split(',').map((role) => role.trim()).filter(Boolean)
  const { created } = await ensureUser(createUserRepository(db), username, password, roles)
  console.log(created ? `User ${username} created.` : `User ${username} already exists; nothing changed.`)
  process.exitCode = created ? 0 : 1
} finally {
  await db.destroy()
}
