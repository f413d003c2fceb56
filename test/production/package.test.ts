// The plugins as packages of their own: `npm pack -w` makes each tarball, and a fresh app outside
// the repository installs the verifier's tarball alone, imports it by name, type-checks against
// its .d.ts files and verifies a running auth service's token, without any of the services'
// dependencies being installed.
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { childEnv, ROOT, run, startChild } from './helpers.js'

const SERVICE_DEPENDENCIES = ['better-sqlite3', 'pg', 'ioredis', '@node-rs/argon2', 'piscina', '@fastify/swagger-ui', 'prom-client', 'kysely', 'helmet']

interface Packed { filename: string, files: Array<{ path: string }> }

async function pack (workspace: string, destination: string): Promise<Packed> {
  const output = await run('npm', ['pack', '-w', workspace, '--json', '--ignore-scripts', '--loglevel=error', '--pack-destination', destination])
  const [packed] = JSON.parse(output.slice(output.indexOf('['))) as Packed[]
  return packed!
}

let outside: string
t.before(async () => {
  outside = await mkdtemp(join(tmpdir(), 'ssot-package-'))
  await run('npm', ['run', 'build', '-w', '@fastify-ssot/verifier', '-w', '@fastify-ssot/issuer'])
})
t.teardown(() => rm(outside, { recursive: true, force: true }))

t.test('each tarball holds its built JS, types and the claim schema, nothing else', async (t) => {
  const verifier = await pack('@fastify-ssot/verifier', outside)
  const issuer = await pack('@fastify-ssot/issuer', outside)
  const verifierFiles = verifier.files.map((file) => file.path)
  const issuerFiles = issuer.files.map((file) => file.path)
  for (const path of ['dist/verifier/index.js', 'dist/verifier/index.d.ts', 'dist/shared/claims.js', 'package.json']) {
    t.ok(verifierFiles.includes(path), `verifier: ${path}`)
  }
  for (const path of ['dist/issuer/index.js', 'dist/issuer/index.d.ts', 'dist/shared/claims.js', 'package.json']) {
    t.ok(issuerFiles.includes(path), `issuer: ${path}`)
  }
  t.same(verifierFiles.filter((path) => path.startsWith('dist/issuer/')), [], 'the verifier carries nothing of the issuer')
  t.same(issuerFiles.filter((path) => path.startsWith('dist/verifier/')), [], 'nor the issuer of the verifier')
  const unwanted = [...verifierFiles, ...issuerFiles].filter((path) => !/^(dist\/.+\.(js|d\.ts|map)|package\.json|README\.md)$/.test(path))
  t.same(unwanted, [], 'no sources, tests, keys or database files')
})

// What a user writes: plain ESM importing the verifier by its package name; /me is protected by
// `app.authenticate`, /jwt by the route's own `request.jwtVerify()`.
const CONSUMER_APP = `
import Fastify from 'fastify'
import verifier from '@fastify-ssot/verifier'

const app = Fastify()
await app.register(verifier, { issuer: process.env.ISSUER_URL, audience: 'ssot-api' })
app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub, username: request.user.username }))
app.get('/jwt', async (request) => {
  await request.jwtVerify()
  return { sub: request.user.sub, frozen: Object.isFrozen(request.user) }
})
await app.listen({ host: '127.0.0.1', port: 0 })
console.log('consumer listening on', 'http://127.0.0.1:' + app.server.address().port)
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
`

// The same, type-checked against the packed .d.ts files: request.user is the typed, read-only claims.
const CONSUMER_TYPES = `
import Fastify from 'fastify'
import verifier, { type VerifiedClaims } from '@fastify-ssot/verifier'

const app = Fastify()
await app.register(verifier, { issuer: 'https://auth.example', audience: 'ssot-api' })
app.get('/me', { onRequest: app.authenticate, preHandler: app.requireScope('profile') }, async (request) => {
  const claims: VerifiedClaims = request.user
  // @ts-expect-error the claims are read-only
  request.user.scope = 'admin'
  return { sub: claims.sub, fetches: app.verifier.stats().jwksFetches.ok }
})
`

t.test('a fresh app installs the verifier tarball alone and verifies a token two ways', async (t) => {
  const verifier = await pack('@fastify-ssot/verifier', outside)
  const app = join(outside, 'consumer')
  await run('mkdir', ['-p', app])
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(outside, verifier.filename), 'fastify@5'], { cwd: app })
  const installed = SERVICE_DEPENDENCIES.filter((name) => existsSync(join(app, 'node_modules', name)))
  t.same(installed, [], 'none of the auth service\'s dependencies')
  t.ok(existsSync(join(app, 'node_modules/@fastify/jwt')) && existsSync(join(app, 'node_modules/get-jwks')), '@fastify/jwt and get-jwks')

  await writeFile(join(app, 'check.ts'), CONSUMER_TYPES)
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files: ['check.ts']
  }))
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app })

  const auth = await startAuth(t)
  await addUser(auth, 'carol', 'correct horse battery')
  await writeFile(join(app, 'app.mjs'), CONSUMER_APP)
  const consumer = startChild(t, process.execPath, [join(app, 'app.mjs')], childEnv({ ISSUER_URL: auth.url }))
  const url = (await consumer.waitFor('consumer listening on')).split(' ').pop()!
  const { body } = await login(auth.url, 'carol', 'correct horse battery')
  const bearer = { authorization: `Bearer ${body.access_token as string}` }

  const me = await fetch(`${url}/me`, { headers: bearer })
  t.equal(me.status, 200)
  t.match(await me.json(), { username: 'carol' })
  const jwt = await fetch(`${url}/jwt`, { headers: bearer })
  t.equal(jwt.status, 200)
  t.match(await jwt.json(), { frozen: true })
  for (const path of ['/me', '/jwt']) {
    const forged = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${(body.access_token as string).slice(0, -4)}AAAA` } })
    t.equal(forged.status, 401, `${path}: a forged signature`)
    t.match(await forged.json(), { code: 'AUTH_TOKEN_INVALID' })
    t.match(forged.headers.get('www-authenticate'), /^Bearer realm="api", error="invalid_token"/)
  }

  consumer.child.kill('SIGTERM')
  t.equal(await consumer.exited, 0)
})
