// Graceful shutdown of a real auth server process: SIGTERM during a login lets the login finish
// (argon2 in flight), then the process closes its database and exits 0.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { addUser, buildAuth, COOKIE_SECRET, captureLogs, childProcessEnv, makeKeysDir, reservePort, startAuth, testDir } from '../helper.js'

interface LogLine { msg?: string, signal?: string, url?: string, reqId?: string, req?: { url?: string } }

t.test('SIGTERM during a login: the login answers 200, then the process exits 0', async (t) => {
  const databaseUrl = `sqlite:${join(testDir(t), 'auth.sqlite')}`
  const keysDir = await makeKeysDir(t)
  const seed = await buildAuth(t, { DATABASE_URL: databaseUrl, KEYS_DIR: keysDir })
  await addUser(seed, 'alice', 'correct horse battery')
  await seed.close()

  const { port, close } = await reservePort()
  await close()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/auth/server.ts'], {
    env: childProcessEnv({ COOKIE_SECRET, DATABASE_URL: databaseUrl, KEYS_DIR: keysDir, AUTH_PORT: String(port), ISSUER_URL: url, LOG_LEVEL: 'debug' }),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const lines: LogLine[] = []
  const waiters: Array<() => void> = []
  let pending = ''
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const complete = pending.split('\n')
    pending = complete.pop()!
    for (const line of complete.filter(Boolean)) lines.push(JSON.parse(line) as LogLine)
    for (const wake of waiters.splice(0)) wake()
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const logged = async (test: (line: LogLine) => boolean) => {
    while (!lines.some(test)) {
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`)
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }

  // Both listeners: the public one, then the admin one (whose verifier first reads the JWKS and the feed).
  await logged(() => lines.filter((line) => /Server listening/.test(line.msg ?? '')).length === 2)
  const answer = fetch(`${url}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'correct horse battery' })
  })
  // At debug level a request's first line says it arrived (at info there is one line, at its end).
  await logged((line) => line.msg === 'incoming request' && line.req?.url === '/auth/login')
  child.kill('SIGTERM')

  const response = await answer
  t.equal(response.status, 200, 'the login in flight completes')
  t.equal(response.headers.get('connection'), 'close', 'and tells the client not to reuse the connection')
  t.match(await response.json(), { token_type: 'Bearer', access_token: /^ey/ })
  t.equal(await exited, 0, 'exit code 0')
  const closing = lines.findIndex((line) => line.msg === 'closing' && line.signal === 'SIGTERM')
  const login = lines.find((line) => line.msg === 'incoming request' && line.req?.url === '/auth/login')!
  const completed = lines.findIndex((line) => line.msg === 'request completed' && line.reqId === login.reqId)
  t.ok(closing >= 0, 'the server logged its SIGTERM')
  t.ok(closing < completed, 'the close began while the login was still running')
  t.equal(stderr, '')
})

t.test('close() waits for a login in flight, then ends though its client keeps connections alive', async (t) => {
  // debug: the `incoming request` line shows the login is in flight.
  const { lines, logger } = captureLogs('debug')
  const app = await startAuth(t, {}, { logger })
  await addUser(app, 'alice', 'correct horse battery')
  const answer = fetch(`${app.url}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'correct horse battery' })
  })
  while (!lines.some((line) => line.msg === 'incoming request')) await new Promise((resolve) => setTimeout(resolve, 5))
  const closed = app.close()
  const response = await answer
  t.equal(response.status, 200)
  t.equal(response.headers.get('connection'), 'close')
  await closed
  t.ok(lines.findIndex((line) => line.msg === 'request completed') > 0, 'the login completed')
})
