// The services as an operator runs them: `node dist/services/<name>/server.js` (what npm run
// start:auth / start:resource run), at default settings but for where they listen and what they
// trust, logging at info to a file, as a service's stdout usually goes to a file or a collector.
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freeLoopbackPort } from './targets.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_TIMEOUT_MS = 30_000

export interface ProductionChild { name: string, url: string, logFile: string, close: () => Promise<void> }

async function answers (url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).status === 200
  } catch {
    return false
  }
}

/**
 * Starts one compiled service with `env` and waits until its /health answers: on a free port, or
 * on the one `env` names (AUTH_PORT, RESOURCE_PORT), as a restarted replica does.
 */
export async function startProduction (
  name: string, service: 'auth' | 'resource', env: Record<string, string>, logDir: string, profileDir?: string
): Promise<ProductionChild> {
  const portVariable = service === 'auth' ? 'AUTH_PORT' : 'RESOURCE_PORT'
  const port = env[portVariable] !== undefined ? Number(env[portVariable]) : await freeLoopbackPort()
  const url = `http://127.0.0.1:${port}`
  const logFile = join(logDir, `${name}.log`)
  const out = openSync(logFile, 'a')
  // No NODE_OPTIONS: the bench itself runs under tsx, a production start does not.
  const parentEnv = { ...process.env }
  delete parentEnv.NODE_OPTIONS
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []
  const child = spawn(process.execPath, [...profile, join(ROOT, 'dist', 'services', service, 'server.js')], {
    cwd: logDir, env: { ...parentEnv, ...(service === 'auth' && { ISSUER_URL: url, ADMIN_PORT: '0' }), ...env, [portVariable]: String(port) }, stdio: ['ignore', out, 'inherit']
  })
  closeSync(out)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!await answers(url)) {
    if (child.exitCode !== null) throw new Error(`bench: ${name} exited (${child.exitCode}) before answering; see ${logFile}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`bench: ${name} did not answer /health within ${START_TIMEOUT_MS} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    name,
    url,
    logFile,
    async close () {
      if (child.exitCode === null) child.kill('SIGTERM')
      const code = await exited
      if (code !== 0) console.error(`bench: ${name} exited ${code} after SIGTERM`)
    }
  }
}
