// Users: lookups by normalised username, creation with an already hashed password.
import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import type { Database, UsersTable } from './tables.js'

export type User = Selectable<UsersTable>

/** The one form a username is stored and looked up in, so `Alice` and `alice ` are one account. */
export function normaliseUsername (username: string): string {
  return username.normalize('NFKC').trim().toLowerCase()
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
      const user = {
        id: randomUUID(),
        username: normaliseUsername(input.username),
        password_hash: input.passwordHash,
        roles: (input.roles ?? []).join(' '),
        disabled: 0,
        created_at: new Date().toISOString()
      }
      await db.insertInto('users').values(user).execute()
      return user
    }
  }
}

export type UserRepository = ReturnType<typeof createUserRepository>
