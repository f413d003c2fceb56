// npm run db:migrate: brings DATABASE_URL to the latest schema (the service also does it at start;
// run this first when several replicas start together against a new PostgreSQL database).
import { loadDotEnv } from '../../shared/server.js'
import { loadAuthEnv } from '../config.js'
import { createDatabase } from '../store/database.js'
import { migrateToLatest } from '../store/migrations.js'

loadDotEnv()
const env = loadAuthEnv(process.env)
const db = createDatabase({ url: env.DATABASE_URL })
try {
  await migrateToLatest(db)
  console.log('The database schema is up to date.')
} finally {
  await db.destroy()
}
