// Users: lookups by normalised username, creation with an already hashed password.
import { randomUUID } from 'node:crypto'
import createError from '@fastify/error'
import type { Kysely, Selectable } from 'kysely'
import type { Database, UsersTable } from './tables.js'

export type User = Selectable<UsersTable>

export const InvalidUsernameError = createError<[string]>('AUTH_USERNAME_INVALID', '%s', 400)

/** The one form a username is stored and looked up in, so `Alice` and `alice ` are one account. */
export function normaliseUsername (username: string): string {
  return username.normalize('NFKC').trim().toLowerCase()
}

export const USERNAME_MAX_LENGTH = 64
/** What a login may send as a username (JSON Schema, Unicode): something besides spaces, and no control characters. */
export const USERNAME_PATTERN = '^[^\\p{Cc}]*[^\\s\\p{Cc}][^\\p{Cc}]*$'

/** Why `username` cannot be a user's name (the rule POST /auth/login applies), or undefined. */
export function usernameProblem (username: string): string | undefined {
  const name = normaliseUsername(username)
  const length = [...name].length
  if (length === 0 || length > USERNAME_MAX_LENGTH || /\p{Cc}/u.test(name)) {
    return `a username is 1 to ${USERNAME_MAX_LENGTH} characters (spaces around it do not count), with no control characters`
  }
  return undefined
}

export function createUserRepository (db: Kysely<Database>) {
  return {
    async findByUsername (username: string): Promise<User | undefined> {
      return db.selectFrom('users').selectAll().where('username', '=', normaliseUsername(username)).executeTakeFirst()
    },

    async findById (id: string): Promise<User | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    },

    async create (input: { username: string, passwordHash: string, roles?: string[] }): Promise<User> {
      const problem = usernameProblem(input.username)
      if (problem) throw new InvalidUsernameError(problem)
      const user = {
        id: randomUUID(),
        username: normaliseUsername(input.username),
        password_hash: input.passwordHash,
        roles: (input.roles ?? []).join(' '),
        disabled: 0,
        created_at: new Date().toISOString(),
        password_change_required: 0
      }
      await db.insertInto('users').values(user).execute()
      return user
    }
  }
}

export type UserRepository = ReturnType<typeof createUserRepository>
