// A pg pool for Kysely whose connection failures surface as StoreUnavailableError (503), while
// SQL errors (constraint violations and the like) pass through unchanged.
import pg from 'pg'
import type { PostgresPool, PostgresPoolClient } from 'kysely'
import { StoreUnavailableError } from './errors.js'

export interface PostgresPoolOptions {
  url: string
  poolMax: number
  /** Milliseconds to wait for a connection, and for one statement. */
  connectTimeout: number
  statementTimeout: number
  /** A connection failed outside any query (an idle client, or one whose server just went away). */
  onConnectionError?: (err: Error) => void
}

// SQLSTATE classes that mean "the server went away", not "your SQL is wrong".
const UNAVAILABLE_SQLSTATE = /^(08|57P)/

/** pg's SQL errors carry a severity and a SQLSTATE; anything else is a connection problem. */
function isConnectionFailure (err: unknown): boolean {
  const { severity, code } = err as { severity?: string, code?: string }
  return severity === undefined || UNAVAILABLE_SQLSTATE.test(String(code))
}

function unavailable (err: unknown): never {
  throw isConnectionFailure(err) ? Object.assign(new StoreUnavailableError(), { cause: err }) : err
}

export function createPostgresPool (options: PostgresPoolOptions): PostgresPool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeout,
    statement_timeout: options.statementTimeout,
    idleTimeoutMillis: 30_000
  })
  const onConnectionError = (err: Error) => options.onConnectionError?.(err)
  // An idle client whose server restarts emits 'error'; unhandled, it would end the process.
  pool.on('error', onConnectionError)
  // One wrapper per pg client: Kysely keeps a connection object per client it is handed.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()

  function wrap (client: pg.PoolClient): PostgresPoolClient {
    let wrapper = wrappers.get(client)
    if (!wrapper) {
      wrapper = {
        query: ((...args: unknown[]) =>
          (client.query as (...a: unknown[]) => Promise<unknown>)(...args).catch(unavailable)) as PostgresPoolClient['query'],
        release: () => {
          client.removeListener('error', onConnectionError)
          client.release()
        }
      }
      wrappers.set(client, wrapper)
    }
    return wrapper
  }

  return {
    async connect (): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch(unavailable)
      // The pool stops listening while a client is checked out, and pg may hand out an idle
      // client whose socket has just closed: its 'error' must not become an uncaught exception
      // (the query itself fails, and becomes a 503).
      client.on('error', onConnectionError)
      return wrap(client)
    },
    end: () => pool.end()
  }
}
