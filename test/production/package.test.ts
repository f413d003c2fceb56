// The verifier as a package: `npm run build` emits JS + types, `npm pack` holds only what a user
// needs, and a fresh app imports `fastify-ssot/verifier` by name and trusts a running auth service.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { addUser, login, startAuth } from '../helper.js'
import { childEnv, ROOT, run, startChild } from './helpers.js'

t.before(async () => {
  await run('npm', ['run', 'build'])
})

t.test('npm pack holds the built plugins, their types and sources, nothing else', async (t) => {
  const [pack] = JSON.parse(await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'])) as Array<{ files: Array<{ path: string }> }>
  const paths = pack!.files.map((file) => file.path)
  for (const path of ['dist/plugins/verifier/index.js', 'dist/plugins/verifier/index.d.ts', 'dist/plugins/issuer/index.js',
    'dist/plugins/issuer/index.d.ts', 'dist/plugins/shared/claims.js', 'package.json']) {
    t.ok(paths.includes(path), `${path} is packed`)
  }
  const unwanted = paths.filter((path) =>
    /(^|\/)(keys|test|services|data|node_modules)\//.test(path) || /\.(pem|sqlite|db|env|tgz)$/.test(path) || path.includes('keyring.json'))
  t.same(unwanted, [], 'no keys, tests, services or database files')
})

t.test('exports map both entry points to built JS and .d.ts files', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string, default: string }> }
  for (const entry of ['./verifier', './issuer']) {
    const { types, default: main } = pkg.exports[entry]!
    t.match(await readFile(join(ROOT, main), 'utf8'), /export default/, `${entry} JS exists`)
    t.match(await readFile(join(ROOT, types), 'utf8'), /export default/, `${entry} types exist`)
  }
  t.match(await readFile(join(ROOT, pkg.exports['./verifier']!.types), 'utf8'), /authenticate/, 'types carry fastify.authenticate')
})

// What a user writes: plain ESM, importing the verifier by package name. It lives under the
// package folder (tap's fixture dir), so Node resolves `fastify-ssot` through `exports`.
const CONSUMER_APP = `
import Fastify from 'fastify'
import verifier from 'fastify-ssot/verifier'

const app = Fastify()
await app.register(verifier, { issuer: process.env.ISSUER_URL, audience: 'ssot-api' })
app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub, username: request.user.username }))
await app.listen({ host: '127.0.0.1', port: 0 })
console.log('consumer listening on', 'http://127.0.0.1:' + app.server.address().port)
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
`

t.test('a fresh app imports fastify-ssot/verifier by name and verifies a token', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'carol', 'correct horse battery')
  const dir = t.testdir()
  await writeFile(join(dir, 'app.mjs'), CONSUMER_APP)

  const consumer = startChild(t, process.execPath, [join(dir, 'app.mjs')], childEnv({ ISSUER_URL: auth.url }))
  const url = (await consumer.waitFor('consumer listening on')).split(' ').pop()!
  const { body } = await login(auth.url, 'carol', 'correct horse battery')

  const ok = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${body.access_token as string}` } })
  t.equal(ok.status, 200)
  t.match(await ok.json(), { username: 'carol' })
  const refused = await fetch(`${url}/me`)
  t.equal(refused.status, 401)
  t.match(refused.headers.get('www-authenticate'), /^Bearer/)

  consumer.child.kill('SIGTERM')
  t.equal(await consumer.exited, 0)
})
