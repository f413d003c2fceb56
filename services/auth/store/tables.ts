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

/** The key ring when KEYS_BACKEND=database (see signing-keys.ts). */
export interface SigningKeysTable {
  kid: string
  state: 'next' | 'active' | 'retired'
  created_at: string
  activated_at: string | null
  retired_at: string | null
  /** The PKCS#8 PEM sealed with AES-256-GCM (key-encryption.ts); never the key in clear. */
  private_key_sealed: string
}

export interface Database {
  users: UsersTable
  signing_keys: SigningKeysTable
}
