// The users repository, on SQLite and on PostgreSQL, from one test body.
import t from 'tap'
import { sql } from 'kysely'
import { ensureUser } from '../../services/auth/accounts.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { createUserRepository, usernameProblem } from '../../services/auth/store/users.js'
import { eachDatabase, freshPostgresUrl, postgresBaseUrl } from './databases.js'

eachDatabase(t, 'users', async (t, url) => {
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  await migrateToLatest(db)
  const users = createUserRepository(db)

  const created = await users.create({ username: ' Ælfrida ', passwordHash: '$argon2id$fake', roles: ['admin', 'editor'] })
  t.equal(created.username, 'ælfrida', 'stored normalised')
  const found = await users.findByUsername('ÆLFRIDA')
  t.match(found, { id: created.id, username: 'ælfrida', password_hash: '$argon2id$fake', roles: 'admin editor', disabled: 0 })
  t.equal(await users.findByUsername('nobody'), undefined)
  await t.rejects(users.create({ username: 'ælfrida', passwordHash: 'x' }), 'one account per normalised username')
  t.equal((await db.selectFrom('users').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n.toString(), '1')
  for (const username of ['   ', 'u'.repeat(65), 'a\tb', 'a\u0000']) {
    await t.rejects(users.create({ username, passwordHash: 'x' }), { code: 'AUTH_USERNAME_INVALID', statusCode: 400 }, JSON.stringify(username))
  }
})

t.test('a username is what POST /auth/login can send: 1 to 64 characters once normalised, no control characters', async (t) => {
  for (const name of ['a', ' Ælfrida ', 'john smith', 'u'.repeat(64), ` ${'u'.repeat(64)} `, 'ﬀ', 'ünïcødé@example.com']) t.equal(usernameProblem(name), undefined, name)
  for (const name of ['', '   ', '\u3000', 'u'.repeat(65), 'tab\there', 'new\nline', 'bell\u0007', '\u007f']) t.type(usernameProblem(name), 'string', JSON.stringify(name))
})

t.test('an in-memory SQLite database, and a migration that fails', async (t) => {
  const memory = createDatabase({ url: 'sqlite::memory:' })
  t.teardown(() => memory.destroy())
  await migrateToLatest(memory)
  const users = createUserRepository(memory)
  t.same(await ensureUser(users, 'demo', 'a password', []), { created: true })
  t.same(await ensureUser(users, 'DEMO', 'another password', []), { created: false }, 'an existing user is left as is')

  t.throws(() => createDatabase({ url: 'mysql://db/auth' }), /DATABASE_URL must start with sqlite: or postgres:\/\//)

  const clash = createDatabase({ url: 'sqlite::memory:' })
  t.teardown(() => clash.destroy())
  await sql`CREATE TABLE users (unrelated TEXT)`.execute(clash)
  await t.rejects(migrateToLatest(clash), /already exists/, 'a schema it cannot migrate stops the start')
})

t.test('two services in two schemas of one PostgreSQL database each migrate their own', async (t) => {
  const baseUrl = postgresBaseUrl(t)
  if (!baseUrl) return
  for (const url of [await freshPostgresUrl(t, baseUrl), await freshPostgresUrl(t, baseUrl)]) {
    const db = createDatabase({ url })
    t.teardown(() => db.destroy())
    await migrateToLatest(db)
    await createUserRepository(db).create({ username: 'same-name', passwordHash: '$argon2id$fake' })
  }
  t.pass('the second schema got tables of its own although the first already had them')
})
