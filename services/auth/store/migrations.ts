// Schema migrations, in code so they ship with the service; the same ones run on SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto'
import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely'

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
  '0002_sessions_and_clients': {
    async up (db: Kysely<unknown>) {
      await db.schema.createTable('refresh_families')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (col) => col.notNull())
        .addColumn('scope', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('revoked_at', 'text')
        .execute()
      await db.schema.createIndex('refresh_families_user').on('refresh_families').column('user_id').execute()
      await db.schema.createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (col) => col.primaryKey())
        .addColumn('family_id', 'text', (col) => col.notNull().references('refresh_families.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('used_at', 'text')
        .execute()
      await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute()
      await db.schema.createTable('clients')
        .addColumn('client_id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('secret_hash', 'text', (col) => col.notNull())
        .addColumn('scopes', 'text', (col) => col.notNull())
        .addColumn('audiences', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute()
    }
  },
  '0003_signing_keys': {
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
  },
  '0004_revocations': {
    async up (db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter
      // A follower of the feed resumes after the last id it saw, so an id is never reused: a
      // sequence on PostgreSQL, AUTOINCREMENT on SQLite (a plain rowid may reuse a deleted one).
      await db.schema.createTable('revocations')
        .addColumn('id', postgres ? 'bigserial' : 'integer', (col) => postgres ? col.primaryKey() : col.primaryKey().autoIncrement())
        .addColumn('hash', 'text', (col) => col.notNull().unique())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute()
      await db.schema.createIndex('revocations_expires_at').on('revocations').column('expires_at').execute()
      await db.schema.alterTable('clients').addColumn('generation', 'text', (col) => col.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0)).execute()
      // Each existing client gets a random generation of its own (never its guessable client_id).
      const { rows } = await sql<{ client_id: string }>`select client_id from clients`.execute(db)
      for (const { client_id: clientId } of rows) {
        await sql`update clients set generation = ${randomUUID()} where client_id = ${clientId}`.execute(db)
      }
    }
  },
  '0005_login_unlocks': {
    async up (db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter
      await db.schema.createTable('login_unlocks')
        .addColumn('id', postgres ? 'bigserial' : 'integer', (col) => postgres ? col.primaryKey() : col.primaryKey().autoIncrement())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute()
    }
  },
  '0006_sign_in': {
    async up (db: Kysely<unknown>) {
      // Browser clients: exact redirect URIs (space-separated), and public clients (no secret, PKCE only).
      await db.schema.alterTable('clients').addColumn('redirect_uris', 'text', (col) => col.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('post_logout_redirect_uris', 'text', (col) => col.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('public', 'integer', (col) => col.notNull().defaultTo(0)).execute()
      await db.schema.createTable('browser_sessions')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('token_hash', 'text', (col) => col.notNull().unique())
        .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
        .addColumn('auth_time', 'integer', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('idle_expires_at', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .execute()
      await db.schema.createIndex('browser_sessions_expires_at').on('browser_sessions').column('expires_at').execute()
      // The refresh families a browser session opened: signing out there ends them too.
      await db.schema.alterTable('refresh_families').addColumn('browser_session_id', 'text').execute()
      await db.schema.createIndex('refresh_families_browser_session').on('refresh_families').column('browser_session_id').execute()
      await db.schema.createTable('authorization_codes')
        .addColumn('code_hash', 'text', (col) => col.primaryKey())
        .addColumn('client_id', 'text', (col) => col.notNull())
        .addColumn('redirect_uri', 'text', (col) => col.notNull())
        .addColumn('code_challenge', 'text', (col) => col.notNull())
        .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
        .addColumn('scope', 'text', (col) => col.notNull())
        .addColumn('nonce', 'text')
        .addColumn('auth_time', 'integer', (col) => col.notNull())
        .addColumn('browser_session_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('consumed_at', 'text')
        .addColumn('family_id', 'text')
        .execute()
      await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute()
      await db.schema.createTable('sign_in_attempts')
        .addColumn('token_hash', 'text', (col) => col.primaryKey())
        .addColumn('request', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .execute()
      await db.schema.createIndex('sign_in_attempts_expires_at').on('sign_in_attempts').column('expires_at').execute()
    }
  },
  '0007_audit': {
    async up (db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter
      // Append-only: the service inserts, and deletes only what is older than AUDIT_RETENTION_DAYS.
      await db.schema.createTable('audit_events')
        .addColumn('id', postgres ? 'bigserial' : 'integer', (col) => postgres ? col.primaryKey() : col.primaryKey().autoIncrement())
        .addColumn('at', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('action', 'text', (col) => col.notNull())
        .addColumn('target', 'text', (col) => col.notNull())
        .addColumn('ip', 'text', (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('detail', 'text', (col) => col.notNull().defaultTo('{}'))
        .execute()
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute()
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'id']).execute()
      await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target', 'id']).execute()
      // A temporary password set by an admin: the next sign-in must change it.
      await db.schema.alterTable('users').addColumn('password_change_required', 'integer', (col) => col.notNull().defaultTo(0)).execute()
    }
  },
  // DPoP (RFC 9449): clients that must send a proof on every grant, and the key a public client's
  // refresh tokens are bound to (every token of a family: the binding never changes).
  '0008_dpop': {
    async up (db: Kysely<unknown>) {
      await db.schema.alterTable('clients').addColumn('dpop_required', 'integer', (col) => col.notNull().defaultTo(0)).execute()
      await db.schema.alterTable('refresh_families').addColumn('dpop_jkt', 'text').execute()
    }
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

/**
 * Kysely finds its own tables by name in every schema unless it is told which one: on a PostgreSQL
 * database that holds several schemas, another schema's kysely_migration_lock would make it skip
 * creating ours and then fail. So on PostgreSQL its tables live in the connection's current schema.
 */
async function migrationTableSchema (db: Kysely<any>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema
}

/** Brings the database to the schema of migration `target`, or the latest; throws the first migration error. */
async function migrate (db: Kysely<any>, target?: string): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableSchema: await migrationTableSchema(db) })
  const { error } = target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target)
  if (error) throw error
}

/** Brings the database to the latest schema; throws the first migration error. */
export const migrateToLatest = (db: Kysely<any>): Promise<void> => migrate(db)

/** Brings the database to an older schema: for tests of an upgrade with data in it. */
export const migrateTo = (db: Kysely<any>, target: string): Promise<void> => migrate(db, target)
