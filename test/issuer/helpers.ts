// Helpers for the issuer tests: the plugin alone on a bare Fastify app, keys generated in the
// test's temp folder, and the app's log lines captured as parsed JSON.
import { generateKeyPairSync } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import issuer, { type IssuerPluginOptions } from '../../plugins/issuer/index.js'
import { MANIFEST_FILE, type KeyRecord } from '../../plugins/issuer/key-files.js'
import { captureLogs, makeKeysDir } from '../helper.js'

export { makeKeysDir, type LogLine } from '../helper.js'

export const ISSUER = 'https://issuer.test'
export const AUDIENCE = 'test-api'

/** The issuer plugin alone on a bare Fastify app (not listening), closed at teardown. */
export async function issuerApp (t: Test, options: Partial<IssuerPluginOptions> = {}) {
  const logs = captureLogs()
  const keysDir = options.keysDir ?? await makeKeysDir(t)
  // Typed as a plain instance: the PromiseLike that Fastify() returns would make `await` drop our fields.
  const app: FastifyInstance = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(issuer, { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: 600, reloadInterval: 0, ...options, keysDir })
  await app.ready()
  return Object.assign(app, { keysDir, logs: logs.lines })
}

/** Writes a manifest naming one key per PEM given (kids are made up: the loader must refuse first). */
export async function writeRing (dir: string, entries: Array<{ kid: string, pem: string | null, state?: KeyRecord['state'] }>) {
  await mkdir(dir, { recursive: true })
  const createdAt = new Date().toISOString()
  for (const { kid, pem } of entries) if (pem !== null) await writeFile(join(dir, `${kid}.pem`), pem)
  const keys = entries.map(({ kid, state }) => ({ kid, state: state ?? 'active', createdAt }))
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ keys }))
}

/** A kid-shaped string (43 base64url characters). */
export const fakeKid = (char: string) => char.repeat(43)

export function pemOf (type: 'rsa' | 'ec', bits = 2048): string {
  const { privateKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: bits })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
}

/** A key file cut short, as a failed copy leaves it: the first half of a key generated now. */
export function partialPem (): string {
  const pem = pemOf('rsa')
  return pem.slice(0, pem.length / 2)
}

/** Resolves when `check` returns true, polling every 20 ms; fails after `ms`. */
export async function waitFor (check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The header and payload of a compact JWT, decoded without verification. */
export function decodeJwt (token: string): { header: Record<string, unknown>, payload: Record<string, unknown> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()))
  return { header, payload }
}
