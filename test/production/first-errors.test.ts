// The errors a newcomer meets first, as the README's troubleshooting shows them: one line on
// stderr and exit 1, never a stack trace.
import { join } from 'node:path'
import t from 'tap'
import { COOKIE_SECRET, makeKeysDir, reservePort, runScript, testDir } from '../helper.js'

function startAuthServer (env: Record<string, string>) {
  return runScript('services/auth/server.ts', [], { DATABASE_URL: `sqlite:${join(testDir(t), 'auth.sqlite')}`, LOG_LEVEL: 'warn', COOKIE_SECRET, ...env })
}

t.test('the port is taken: exit 1, naming the address and what to do', async (t) => {
  const taken = await reservePort()
  t.teardown(taken.close)
  const result = startAuthServer({ KEYS_DIR: await makeKeysDir(t), AUTH_PORT: String(taken.port) })
  t.equal(result.status, 1)
  t.equal(result.stderr.trim(), `listen EADDRINUSE: address already in use 127.0.0.1:${taken.port}: is another instance running? Set another port.`)
})

t.test('no keys outside --dev: exit 1, naming the folder and the command that creates them', async (t) => {
  const keysDir = join(testDir(t), 'no-keys-here')
  const result = startAuthServer({ KEYS_DIR: keysDir, AUTH_PORT: '0' })
  t.equal(result.status, 1)
  t.equal(result.stderr.trim(), `No key ring in ${keysDir}: run \`npm run keys:generate\` (or start with \`npm run dev\`)`)
})

t.test('no COOKIE_SECRET outside --dev: exit 1, saying why it is needed and how to make one', async (t) => {
  const result = startAuthServer({ KEYS_DIR: await makeKeysDir(t), AUTH_PORT: '0', COOKIE_SECRET: '' })
  t.equal(result.status, 1)
  t.equal(result.stderr.trim(), 'Invalid configuration: COOKIE_SECRET is not set. It signs the device cookies that keep login throttling ' +
    'from locking owners out; every replica needs the same one. Create it with `openssl rand -base64 32`')
})

for (const [service, script] of [['auth', 'services/auth/server.ts'], ['resource', 'services/resource/server.ts']]) {
  t.test(`${service}: TRUST_PROXY=true is refused at start in one line naming what to set instead`, async (t) => {
    const result = runScript(script!, [], { TRUST_PROXY: 'true', AUTH_PORT: '0', RESOURCE_PORT: '0' })
    t.equal(result.status, 1)
    const lines = result.stderr.trim().split('\n')
    t.equal(lines.length, 1, 'one line, no stack trace')
    t.match(lines[0], /^Invalid configuration: TRUST_PROXY=true lets every client choose its own address with X-Forwarded-For/)
    t.match(lines[0], /set TRUST_PROXY to the number of proxies in front \(1 to 5\) or the proxies' own addresses\/CIDRs/)
    t.match(lines[0], /PROXY_OVERWRITES_FORWARDED_FOR=true/, 'and names the explicit opt-in')
  })
}

for (const [service, script, value] of [['auth', 'services/auth/server.ts', '0.0.0.0/1,128.0.0.0/1,::/1,8000::/1'], ['resource', 'services/resource/server.ts', '1000']]) {
  t.test(`${service}: TRUST_PROXY=${value} is refused at start too: it would trust any client's X-Forwarded-For`, async (t) => {
    const result = runScript(script!, [], { TRUST_PROXY: value!, AUTH_PORT: '0', RESOURCE_PORT: '0' })
    t.equal(result.status, 1)
    const lines = result.stderr.trim().split('\n')
    t.equal(lines.length, 1, 'one line, no stack trace')
    t.match(lines[0], /^Invalid configuration: TRUST_PROXY=\S+ trusts (every IPv4 address as a proxy|more proxies than any real chain has)/)
    t.match(lines[0], /set TRUST_PROXY to the number of proxies in front \(1 to 5\) or the proxies' own addresses\/CIDRs/, 'naming the safe forms')
  })
}
