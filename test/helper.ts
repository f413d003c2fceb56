// Test helpers: each test builds its own services on real SQLite files, keys generated in a temp
// folder, real listening sockets on loopback; teardown closes everything.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { ensureKeyFiles, type KeyRecord } from '../plugins/issuer/key-files.js'
import { ensureUser } from '../services/auth/accounts.js'
import { buildApp as buildAuthApp, type AuthAppOptions } from '../services/auth/app.js'
import { authAppOptions, loadAuthEnv } from '../services/auth/config.js'
import { buildApp as buildResourceApp } from '../services/resource/app.js'
import { loadResourceEnv, resourceAppOptions } from '../services/resource/config.js'

export type Env = Record<string, string>

/** A COOKIE_SECRET for the services a test runs as processes (server.ts refuses to start without one outside --dev). */
export const COOKIE_SECRET = 'the cookie secret of the test suite: 32+ characters'

/** The temp folder of `t`, created on first use (t.testdir() itself empties it on every call). */
export function testDir (t: Test): string {
  return existsSync(t.testdirName) ? t.testdirName : t.testdir()
}

/** A fresh key ring (an active and a next key) in a temp folder of `t`. */
export async function makeKeysDir (t: Test): Promise<string> {
  const dir = join(testDir(t), 'keys')
  await ensureKeyFiles(dir)
  return dir
}

/** The active key's kid and private PEM, for tests that forge tokens under our kid. */
export async function activeKeyOf (keysDir: string): Promise<{ kid: string, privatePem: string }> {
  const { keys } = JSON.parse(await readFile(join(keysDir, 'keyring.json'), 'utf8')) as { keys: KeyRecord[] }
  const active = keys.find((key) => key.state === 'active')!
  return { kid: active.kid, privatePem: await readFile(join(keysDir, `${active.kid}.pem`), 'utf8') }
}

/** Options tests set beyond the environment: a logger, sub-second feed timings. */
export type AuthExtra = Pick<AuthAppOptions, 'logger'> & Partial<Pick<AuthAppOptions, 'revocationFeed'>>

/** The auth service, configured the way server.ts does it, from environment variables. */
export async function buildAuth (t: Test, env: Env = {}, extra: AuthExtra = {}) {
  const dir = testDir(t)
  const keysDir = env.KEYS_DIR ?? await makeKeysDir(t)
  const app = await buildAuthApp({
    ...authAppOptions(loadAuthEnv({ DATABASE_URL: `sqlite:${join(dir, 'auth.sqlite')}`, KEYS_DIR: keysDir, ...env })),
    ...extra
  })
  t.teardown(() => app.close())
  return Object.assign(app, { keysDir })
}

/** The auth service listening on a free loopback port (or on `samePort`, as after a restart); `url` is its address and its ISSUER_URL. */
export async function startAuth (t: Test, env: Env = {}, extra: AuthExtra = {}, samePort?: number) {
  const { port, close } = samePort === undefined ? await reservePort() : { port: samePort, close: async () => {} }
  await close()
  const url = `http://127.0.0.1:${port}`
  const app = await buildAuth(t, { ISSUER_URL: url, ...env }, extra)
  await app.listen({ host: '127.0.0.1', port })
  return Object.assign(app, { url })
}

/** The resource service listening on a free loopback port, trusting `issuer`. */
export async function startResource (t: Test, issuer: string, env: Env = {}) {
  const app = await buildResourceApp(resourceAppOptions(loadResourceEnv({ ISSUER_URL: issuer, ...env })))
  t.teardown(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return Object.assign(app, { url })
}

export async function addUser (app: Awaited<ReturnType<typeof buildAuth>>, username: string, password: string, roles: string[] = []) {
  await ensureUser(app.store.users, username, password, roles)
}

/** POST /auth/login over HTTP; returns the parsed answer and status. */
export async function login (issuer: string, username: string, password: string) {
  const response = await fetch(`${issuer}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password })
  })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

/**
 * The environment for a child process a test starts. tap injects its coverage hooks into every
 * child; a child that transpiles with tsx reports other line maps, so its coverage is turned off.
 */
export function childProcessEnv (extra: Env = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...NO_CHILD_COVERAGE, ...SPARE_ADMIN_PORT, ...extra }
}

/** An auth service started as a process opens its admin listener too: on a free port, so that tests running at once never collide on 3002. */
export const SPARE_ADMIN_PORT = { ADMIN_PORT: '0' }

export const NO_CHILD_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' }

/** Runs a TypeScript entry point (`services/…/x.ts`) in a child process to its exit, as a user's npm script would. */
export function runScript (script: string, args: string[] = [], env: Env = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { env: childProcessEnv(env), encoding: 'utf8', timeout: 30_000 })
}

const execFileAsync = promisify(execFile)

/** Runs an auth service CLI (`services/auth/cli/<name>.ts`) as its npm script would, without blocking this process; never throws. */
export async function runCli (name: string, args: string[], env: Env): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', `services/auth/cli/${name}.ts`, ...args], {
      env: childProcessEnv(env), timeout: 60_000
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number, stdout: string, stderr: string }
    return { code, stdout, stderr }
  }
}

export interface LogLine { level: number, msg: string, [key: string]: unknown }

/** A pino destination keeping every line, parsed; `logger` is ready for Fastify's `logger` option. */
export function captureLogs (level = 'info') {
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  return { lines, stream, logger: { level, stream } }
}

/** A loopback port nobody listens on (bound, then released). */
export async function reservePort (): Promise<{ port: number, close: () => Promise<void> }> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
