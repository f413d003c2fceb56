// npm run db:migrate creates the schema, on SQLite and on PostgreSQL, and is safe to run twice.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { createDatabase } from '../../services/auth/store/database.js'
import { childProcessEnv } from '../helper.js'
import { eachDatabase } from './databases.js'

eachDatabase(t, 'db:migrate', async (t, url) => {
  for (let run = 0; run < 2; run++) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/auth/cli/db-migrate.ts'], {
      env: childProcessEnv({ DATABASE_URL: url }), encoding: 'utf8', timeout: 30_000
    })
    t.equal(result.status, 0, result.stderr)
    t.match(result.stdout, /schema is up to date/)
  }
  const db = createDatabase({ url })
  t.teardown(() => db.destroy())
  const tables = (await db.introspection.getTables()).map((table) => table.name)
  t.ok(tables.includes('users'), 'the users table exists')
})
