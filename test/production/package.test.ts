// The plugins as packages of their own: `npm pack -w` makes each tarball, and a fresh app outside
// the repository installs the verifier's tarball alone, imports it by name and verifies a running
// auth service's token, without any of the services' dependencies being installed: as plain ESM,
// as CommonJS, and as strict TypeScript beside the app's own @fastify/jwt, type-checked with
// skipLibCheck off against the newest @types/node and @types/node 20.
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { BESIDE_OWN_JWT, CJS_CONSUMER, CONSUMER_APP, TYPED_DEFAULT } from './fixtures/verifier-consumers.js'
import { childEnv, ROOT, run, startChild } from './helpers.js'

const SERVICE_DEPENDENCIES = ['better-sqlite3', 'pg', 'ioredis', '@node-rs/argon2', 'piscina', '@fastify/swagger-ui', 'prom-client', 'kysely', 'helmet']
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

interface Packed { filename: string, files: Array<{ path: string }> }

async function pack (workspace: string, destination: string): Promise<Packed> {
  const output = await run('npm', ['pack', '-w', workspace, '--json', '--ignore-scripts', '--loglevel=error', '--pack-destination', destination])
  const [packed] = JSON.parse(output.slice(output.indexOf('['))) as Packed[]
  return packed!
}

// npm installs and four strict type-checks of the whole dependency tree: minutes on a busy machine.
t.setTimeout(600_000)

let outside: string
t.before(async () => {
  outside = await mkdtemp(join(tmpdir(), 'ssot-package-'))
  await run('npm', ['run', 'build', '-w', '@fastify-ssot/verifier', '-w', '@fastify-ssot/issuer'])
})
t.teardown(() => rm(outside, { recursive: true, force: true }))

t.test('each tarball holds its built JS, types and the claim schema, nothing else; the verifier its README and LICENSE', async (t) => {
  const verifier = await pack('@fastify-ssot/verifier', outside)
  const issuer = await pack('@fastify-ssot/issuer', outside)
  const verifierFiles = verifier.files.map((file) => file.path)
  const issuerFiles = issuer.files.map((file) => file.path)
  for (const path of ['dist/verifier/index.js', 'dist/verifier/index.d.ts', 'dist/shared/claims.js', 'package.json', 'README.md', 'LICENSE']) {
    t.ok(verifierFiles.includes(path), `verifier: ${path}`)
  }
  for (const path of ['dist/issuer/index.js', 'dist/issuer/index.d.ts', 'dist/shared/claims.js', 'package.json']) {
    t.ok(issuerFiles.includes(path), `issuer: ${path}`)
  }
  t.same(verifierFiles.filter((path) => path.startsWith('dist/issuer/')), [], 'the verifier carries nothing of the issuer')
  t.same(issuerFiles.filter((path) => path.startsWith('dist/verifier/')), [], 'nor the issuer of the verifier')
  const unwanted = [...verifierFiles, ...issuerFiles].filter((path) => !/^(dist\/.+\.(js|d\.ts|map)|package\.json|README\.md|LICENSE)$/.test(path))
  t.same(unwanted, [], 'no sources, tests, keys or database files')
  t.same(verifierFiles.filter((path) => path.endsWith('.d.ts.map')), [], 'the verifier: no declaration maps pointing at sources it does not ship')
})

let consumer: string
t.test('the verifier\'s source maps resolve: each JS file names its map, and each map carries its sources', async (t) => {
  const packed = await pack('@fastify-ssot/verifier', outside)
  consumer = join(outside, 'consumer')
  await run('mkdir', ['-p', consumer])
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(outside, packed.filename), 'fastify@5', '@fastify/jwt@10', '@types/node@latest'], { cwd: consumer })
  const installed = join(consumer, 'node_modules/@fastify-ssot/verifier')
  for (const path of packed.files.map((file) => file.path).filter((path) => path.endsWith('.js'))) {
    const code = await readFile(join(installed, path), 'utf8')
    const mapName = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1]
    const map = JSON.parse(await readFile(join(installed, dirname(path), mapName!), 'utf8')) as { sources: string[], sourcesContent?: Array<string | null> }
    t.ok(map.sources.length > 0 && map.sourcesContent?.length === map.sources.length && map.sourcesContent.every((text) => typeof text === 'string' && text.length > 0), path)
  }
  const readme = await readFile(join(installed, 'README.md'), 'utf8')
  for (const section of ['## Install', '## Register', '## Options', '## TypeScript', '## CommonJS', '## Errors', '## stats() and readiness', '## Revocations']) {
    t.ok(readme.includes(section), `README: ${section}`)
  }
  const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { repository?: { url?: string }, license?: string }
  t.match(manifest, { license: 'MIT', repository: { url: /^git\+https:\/\// } })
})

t.test('strict TypeScript, skipLibCheck off: beside the app\'s own @fastify/jwt with the newest @types/node and @types/node 20, and alone', async (t) => {
  await writeFile(join(consumer, 'typed-default.ts'), TYPED_DEFAULT)
  await writeFile(join(consumer, 'beside.ts'), BESIDE_OWN_JWT)
  const tsconfig = (file: string) => JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' },
    files: [file]
  })
  await writeFile(join(consumer, 'tsconfig.default.json'), tsconfig('typed-default.ts'))
  await writeFile(join(consumer, 'tsconfig.beside.json'), tsconfig('beside.ts'))
  const typesVersion = async () => (JSON.parse(await readFile(join(consumer, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version
  // Each check costs seconds of CPU: the beside app under both, the app alone under the newest.
  await t.resolves(run(process.execPath, [TSC, '-p', 'tsconfig.default.json', '--noEmit'], { cwd: consumer }), `alone, @types/node ${await typesVersion()}`)
  await t.resolves(run(process.execPath, [TSC, '-p', 'tsconfig.beside.json'], { cwd: consumer }), `beside, @types/node ${await typesVersion()} (and built, to run)`)
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '@types/node@20'], { cwd: consumer })
  await t.resolves(run(process.execPath, [TSC, '-p', 'tsconfig.beside.json', '--noEmit'], { cwd: consumer }), `beside, @types/node ${await typesVersion()}`)
})

t.test('at run time, the ESM, CommonJS and TypeScript apps answer both kinds of token', async (t) => {
  const installed = SERVICE_DEPENDENCIES.filter((name) => existsSync(join(consumer, 'node_modules', name)))
  t.same(installed, [], 'none of the auth service\'s dependencies')
  t.ok(existsSync(join(consumer, 'node_modules/@fastify/jwt')) && existsSync(join(consumer, 'node_modules/get-jwks')), '@fastify/jwt and get-jwks')

  const auth = await startAuth(t)
  await addUser(auth, 'carol', 'correct horse battery')
  const { body } = await login(auth.url, 'carol', 'correct horse battery')
  const token = body.access_token as string
  const forged = `${token.slice(0, -4)}AAAA`
  const { sub } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }
  const env = childEnv({ ISSUER_URL: auth.url, TOKEN: token, FORGED: forged })

  await writeFile(join(consumer, 'app.mjs'), CONSUMER_APP)
  const esm = startChild(t, process.execPath, [join(consumer, 'app.mjs')], env)
  const url = (await esm.waitFor('consumer listening on')).split(' ').pop()!
  const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })
  t.match(await me.json(), { username: 'carol' }, 'ESM: app.authenticate')
  t.match(await (await fetch(`${url}/jwt`, { headers: { authorization: `Bearer ${token}` } })).json(), { frozen: true }, 'ESM: request.jwtVerify()')
  for (const path of ['/me', '/jwt']) {
    const refused = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${forged}` } })
    t.equal(refused.status, 401, `ESM ${path}: a forged signature`)
    t.match(await refused.json(), { code: 'AUTH_TOKEN_INVALID' })
    t.match(refused.headers.get('www-authenticate'), /^Bearer realm="api", error="invalid_token"/)
  }
  esm.child.kill('SIGTERM')
  t.equal(await esm.exited, 0)

  await writeFile(join(consumer, 'cjs.cjs'), CJS_CONSUMER)
  t.same(JSON.parse(await run(process.execPath, [join(consumer, 'cjs.cjs')], { cwd: consumer, env })), {
    honest: { statusCode: 200, sub },
    forged: { statusCode: 401, code: 'AUTH_TOKEN_INVALID' },
    errorClass: true
  }, 'CommonJS: require(), the plugin and its error classes')

  const { ssotTokenAtOwn, ...answers } = JSON.parse(await run(process.execPath, [join(consumer, 'out/beside.js')], { cwd: consumer, env })) as Record<string, { statusCode: number }>
  t.same(answers, {
    own: { statusCode: 200, name: 'bob' },
    ssot: { statusCode: 200, username: 'carol' },
    ssotMethod: { statusCode: 200, username: 'carol' },
    ownTokenAtSsot: { statusCode: 401, code: 'AUTH_TOKEN_INVALID' }
  }, 'TypeScript beside the app\'s own @fastify/jwt: each token answered by its own plugin')
  // What the app's own @fastify/jwt answers is its own (a 500 here: it does not map fast-jwt's refusal); never a 200.
  t.not(ssotTokenAtOwn!.statusCode, 200, 'our token is not the app\'s')
})
