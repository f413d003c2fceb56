// Creating users from the service's own tools (the demo user, `npm run user:add`).
import { hashPassword } from './passwords.js'
import type { UserRepository } from './store/users.js'

/** Creates the user unless that username exists; says whether it did. */
export async function ensureUser (users: UserRepository, username: string, password: string, roles: string[]) {
  if (await users.findByUsername(username)) return { created: false }
  await users.create({ username, passwordHash: await hashPassword(password), roles })
  return { created: true }
}
