// Schema migrations, in code so they ship with the service; the same ones run on SQLite and PostgreSQL.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely'

const migrations: Record<string, Migration> = {
  '0001_users': {
    async up (db: Kysely<unknown>) {
      await db.schema.createTable('users')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('username', 'text', (col) => col.notNull().unique())
        .addColumn('password_hash', 'text', (col) => col.notNull())
        .addColumn('roles', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (col) => col.notNull().defaultTo(sql`CURRENT_TIMESTAMP`))
        .execute()
    }
  },
  // 0100: numbered apart from the users/refresh-token/client series so the two never collide.
  '0100_signing_keys': {
    async up (db: Kysely<unknown>) {
      await db.schema.createTable('signing_keys')
        .addColumn('kid', 'text', (col) => col.primaryKey())
        .addColumn('state', 'text', (col) => col.notNull().check(sql`state in ('next', 'active', 'retired')`))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('activated_at', 'text')
        .addColumn('retired_at', 'text')
        .addColumn('private_key_sealed', 'text', (col) => col.notNull())
        .execute()
    }
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

/** Brings the database to the latest schema; throws the first migration error. */
export async function migrateToLatest (db: Kysely<any>): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateToLatest()
  if (error) throw error
}
