// The production start from a fresh checkout: without a build, start:auth says what to run in
// one line; after `npm run build`, start:auth and start:resource run the compiled JavaScript on
// plain node, serve a login and a protected call, and exit 0 on SIGTERM sent to npm.
import { spawnSync } from 'node:child_process'
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { ensureKeyFiles } from '../../plugins/issuer/key-files.js'
import { COOKIE_SECRET, login, reservePort } from '../helper.js'
import { childEnv, ROOT, run, startChild } from './helpers.js'

/** The files a fresh clone of this working tree would hold (tracked, or new and not ignored), plus node_modules. */
async function freshCheckout (dir: string): Promise<void> {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    await mkdir(join(dir, dirname(file)), { recursive: true })
    await copyFile(join(ROOT, file), join(dir, file)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
}

async function freePort (): Promise<number> {
  const { port, close } = await reservePort()
  await close()
  return port
}

t.test('npm run build, then start:auth and start:resource on compiled JS; SIGTERM ends each with 0', async (t) => {
  const dir = t.testdir()
  await freshCheckout(dir)
  const scripts = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  for (const name of ['start:auth', 'start:resource']) t.notMatch(scripts[name], /tsx|--import|--loader|--require/, `${name} loads no TypeScript`)

  const missing = spawnSync('npm', ['run', '--silent', 'start:auth'], { cwd: dir, env: childEnv(), encoding: 'utf8' })
  t.equal(missing.status, 1, 'no build: exit 1')
  t.equal(missing.stderr.trim(), 'No build of the auth service (dist/services/auth/server.js): run `npm run build`, then `npm run start:auth`')

  await run('npm', ['run', 'build'], { cwd: dir })
  await ensureKeyFiles(join(dir, 'keys'))
  const authPort = await freePort()
  const issuer = `http://127.0.0.1:${authPort}`
  const auth = startChild(t, 'npm', ['run', 'start:auth'], childEnv({
    AUTH_PORT: String(authPort), ISSUER_URL: issuer, COOKIE_SECRET, DATABASE_URL: `sqlite:${join(dir, 'auth.sqlite')}`, DEMO_USERNAME: 'dana', DEMO_PASSWORD: 'correct horse battery'
  }), dir)
  await auth.waitFor('Server listening')
  const { status, body } = await login(issuer, 'dana', 'correct horse battery')
  t.equal(status, 200, 'a login on the compiled auth service')

  const resourcePort = await freePort()
  const resource = startChild(t, 'npm', ['run', 'start:resource'], childEnv({ RESOURCE_PORT: String(resourcePort), ISSUER_URL: issuer }), dir)
  await resource.waitFor('Server listening')
  const protectedCall = await fetch(`http://127.0.0.1:${resourcePort}/resource/protected`, { headers: { authorization: `Bearer ${body.access_token as string}` } })
  t.equal(protectedCall.status, 200, 'the compiled resource service verifies its token')
  t.match(await protectedCall.json(), { user: { username: 'dana' } })

  for (const service of [resource, auth]) {
    service.child.kill('SIGTERM')
    t.equal(await service.exited, 0, 'SIGTERM to npm: the service closes and exits 0')
    t.ok(service.lines.some((line) => /"msg":"closing"/.test(line) && /"signal":"SIGTERM"/.test(line)), 'it logged its SIGTERM')
  }
})
