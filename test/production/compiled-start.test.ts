// The production start from a fresh checkout: without a build, start:auth says what to run in
// one line; after `npm run build` and a production install (`npm ci --omit=dev`: no tsx, no
// TypeScript), every CLI runs through its npm script on plain node, start:auth and start:resource
// run the compiled JavaScript, serve a login and a protected call, and exit 0 on SIGTERM sent to npm.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, rm, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t, { type Test } from 'tap'
import { COOKIE_SECRET, login, reservePort } from '../helper.js'
import { childEnv, ROOT, run, startChild } from './helpers.js'

// A build and a production install: more than the suite's two minutes on a busy machine.
t.setTimeout(360_000)

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
  await productionInstall(dir)
  const databaseUrl = `sqlite:${join(dir, 'auth.sqlite')}`
  await setUpWithClis(t, dir, databaseUrl)
  const authPort = await freePort()
  const issuer = `http://127.0.0.1:${authPort}`
  const auth = startChild(t, 'npm', ['run', 'start:auth'], childEnv({
    AUTH_PORT: String(authPort), ISSUER_URL: issuer, COOKIE_SECRET, DATABASE_URL: databaseUrl
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
  await runTheOtherClis(t, dir, databaseUrl)
})

/**
 * `npm ci --omit=dev` over the built tree, as a production image does: only the runtime
 * dependencies. Install scripts are skipped (no compiler or network here); better-sqlite3's one
 * only puts its native addon in place, so that file is copied from this checkout's install.
 */
async function productionInstall (dir: string): Promise<void> {
  await rm(join(dir, 'node_modules'))
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir })
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
  await mkdir(dirname(join(dir, addon)), { recursive: true })
  await copyFile(join(ROOT, addon), join(dir, addon))
}

/** `npm run <script> -- args` in the production tree; its exit code and output. */
function npmRun (dir: string, env: Record<string, string>, script: string, args: string[] = [], input = '') {
  const result = spawnSync('npm', ['run', '--silent', script, '--', ...args], { cwd: dir, env: childEnv(env), input, encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The command of npm script `script`, run as npm would, without npm's own second of start-up. */
async function scriptRun (dir: string, env: Record<string, string>, script: string, args: string[] = []) {
  const scripts = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const [command, ...scriptArgs] = scripts[script]!.split(' ')
  if (command !== 'node') throw new Error(`npm run ${script} is not plain node: ${scripts[script]}`)
  const result = spawnSync(process.execPath, [...scriptArgs, ...args], { cwd: dir, env: childEnv(env), encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** What an operator does before the first start, with the production tree's CLIs. */
async function setUpWithClis (t: Test, dir: string, databaseUrl: string) {
  t.notOk(existsSync(join(dir, 'node_modules/tsx')) || existsSync(join(dir, 'node_modules/typescript')), 'no tsx, no TypeScript: a production install')
  const env = { DATABASE_URL: databaseUrl }
  t.match(npmRun(dir, env, 'keys:generate'), { code: 0, stdout: /^Created a key ring in / })
  t.match(await scriptRun(dir, env, 'db:migrate'), { code: 0, stdout: 'The database schema is up to date.' })
  t.match(npmRun(dir, env, 'user:add', ['dana'], 'correct horse battery\n'), { code: 0, stdout: 'User dana created.' })
  t.match(await scriptRun(dir, env, 'client:add', ['billing', '--scopes', 'orders:read']), { code: 0, stdout: /^Client billing created/ })
}

/** Every other CLI, on the data the service ran on. */
async function runTheOtherClis (t: Test, dir: string, databaseUrl: string) {
  const env = { DATABASE_URL: databaseUrl }
  const runs: Array<[string, string[], RegExp]> = [
    ['user:unlock', ['dana'], /^Login throttling of dana cleared/],
    ['sessions:revoke', ['dana'], /^1 session of dana revoked/],
    ['user:disable', ['dana'], /^User dana disabled/],
    ['user:enable', ['dana'], /^User dana enabled/],
    ['client:rotate-secret', ['billing'], /^Client billing: new secret/],
    ['client:disable', ['billing'], /^Client billing disabled/],
    ['client:enable', ['billing'], /^Client billing enabled/],
    ['client:delete', ['billing'], /^Client billing deleted/],
    ['keys:rotate', ['--force'], /^Rotated the key ring in /],
    ['docs:config', ['--check'], /^$/]
  ]
  t.match(npmRun(dir, env, runs[0]![0], runs[0]![1]), { code: 0, stdout: runs[0]![2], stderr: '' }, `npm run ${runs[0]![0]}`)
  for (const [script, args, stdout] of runs.slice(1)) t.match(await scriptRun(dir, env, script, args), { code: 0, stdout, stderr: '' }, `npm run ${script}'s command`)
  const importEnv = { ...env, KEYS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') }
  t.match(await scriptRun(dir, importEnv, 'keys:import'), { code: 0, stdout: /^Imported \d+ keys from / }, 'npm run keys:import\'s command')
  const direct = spawnSync(process.execPath, ['dist/services/auth/cli/user-disable.js', 'dana'], { cwd: dir, env: childEnv(env), encoding: 'utf8' })
  t.match(direct, { status: 0, stdout: /^User dana disabled/ }, 'and a compiled CLI on plain node, without npm')
}
