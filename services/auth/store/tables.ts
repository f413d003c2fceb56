// Row types of the auth database, shared by the migrations and the repositories.
import type { Generated } from 'kysely'

export interface UsersTable {
  id: string
  /** Normalised (NFKC, lower case, trimmed): the unique login name. */
  username: string
  password_hash: string
  /** Space-separated role names. */
  roles: string
  disabled: Generated<number>
  created_at: string
}

export interface Database {
  users: UsersTable
}
