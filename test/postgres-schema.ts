// A PostgreSQL schema of its own for one test or one bench run: created on the given database,
// reached through a DATABASE_URL whose search_path names it, and dropped with everything in it.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

async function adminQuery (url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A new schema `<prefix>_<random>` on `baseUrl`'s database: its DATABASE_URL, and how to drop it. */
export async function createSchema (baseUrl: string, prefix: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  await adminQuery(baseUrl, `CREATE SCHEMA ${schema}`)
  const url = new URL(baseUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { url: url.toString(), drop: () => adminQuery(baseUrl, `DROP SCHEMA ${schema} CASCADE`) }
}
