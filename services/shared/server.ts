// What both servers do around buildApp: read .env, fail on bad config in one line, listen,
// and shut down gracefully on SIGTERM/SIGINT.
import { existsSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

/** `--dev`: pretty logs, development keys and the demo user (see README). */
export const devMode = process.argv.includes('--dev')

/** Loads `.env` when there is one; variables already set in the environment win. */
export function loadDotEnv (): void {
  if (existsSync('.env')) process.loadEnvFile('.env')
}

/** Runs `start`; a configuration error ends the process with its one-line message. */
export async function runOrExit (start: () => Promise<void>): Promise<void> {
  try {
    await start()
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    console.error(code === 'EADDRINUSE' ? `${message}: is another instance running? Set another port.` : message)
    process.exit(1)
  }
}

export async function listenWithGrace (app: FastifyInstance, host: string, port: number): Promise<void> {
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    await app.close()
  })
  await app.listen({ host, port })
}
