// Reading a service's environment once, at start, against its TypeBox schema.
import envSchema from 'env-schema'
import { Type, type Static, type TObject } from '@sinclair/typebox'

/**
 * Validates `env` against `schema` (with defaults and string → number coercion).
 * Throws one line that names the variable, e.g. `Invalid configuration: env/AUTH_PORT must be integer`.
 */
export function loadEnv<S extends TObject> (schema: S, env: NodeJS.ProcessEnv): Static<S> {
  try {
    return envSchema<Static<S>>({ schema, data: env, dotenv: false })
  } catch (err) {
    throw new Error(`Invalid configuration: ${(err as Error).message}`)
  }
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

export const DURATION_PATTERN = '^[0-9]+[smhd]?$'

/** A duration setting (`30s`, `15m`, `7d`; bare numbers are seconds) with its default. */
export const Duration = (fallback: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: fallback, description })

/** `90`, `90s`, `15m`, `12h`, `30d` → seconds. */
export function durationSeconds (value: string): number {
  const match = /^([0-9]+)([smhd]?)$/.exec(value)
  if (!match) throw new Error(`Invalid duration: ${value}`)
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!
}

/** The audience both services agree on when TOKEN_AUDIENCE is not set. */
export const DEFAULT_AUDIENCE = 'ssot-api'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LogLevel = Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)), { default: 'info', description: 'pino log level' })

// Logger options live with the rest of the logging setup; re-exported for the services' server.ts.
export { loggerOptions } from './logging.js'
