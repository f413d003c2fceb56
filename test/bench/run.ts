// npm run bench: starts every server under test on loopback (one child process each), warms them
// up, measures each target in interleaved rounds, and prints one table, the target ratios and a
// JSON copy. Options: --rounds=3 --duration=5 (seconds per target per round) --out=FILE, and to
// find what limits a target: --profile (a CPU profile per server child) --only=WORD,WORD (targets whose name holds one;
// `memory` the random-kid flood, `revocation` the revocation part: replicas on PostgreSQL, see revocation.ts)
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureKeyFiles } from '../../plugins/issuer/key-files.js'
import { startServer, type ChildOptions, type ServerChild } from './children.js'
import { argon2HashTimes, rs256SignRate, rs256VerifyRate } from './crypto-limit.js'
import { runLoad } from './load.js'
import { mainThreadProfile, summariseProfile } from './profile.js'
import { formatRatios, formatTable, median, Samples, type Sample } from './report.js'
import { DPOP_BEARER_NAME, DPOP_BOUND_NAME, DPOP_NAME, dpopLoad, expectDpopOk, issueBoundToken, proofSigner } from './dpop.js'
import { dpopLines, dpopRatios, informationLines, productionRatios, revocationLines, revocationRatios, targetRatios, verifierRatios } from './ratios.js'
import { measureRevocation, REVOCATION_PART, type RevocationReport } from './revocation.js'
import { startProduction, type ProductionChild } from './production.js'
import { addBenchBrowserClient, openBrowserSession, SSO_NAME, ssoSignIns } from './sign-in.js'
import {
  addBenchClient, alternately, BARE_FASTIFY_NAME, DOCUMENTED_NAME, BARE_RSA_ONLY_NAME, FASTIFY_JWT_ONLY_NAME, BARE_VERIFIER_NAME, HEALTH_NAME, HEALTH_WARN_NAME, HASH_AT_ONCE_NAME, HASH_ONLY_NAME, JWKS_DURING_HASH_ONLY, LOGIN_CLIENTS, LOOP_DELAY_IDLE, LOOP_DELAY_LOGIN, RSA_ONLY_NAME, bearerRequests, expectOk, issuanceRequest, ISSUANCE_NAME, issueTokens, JWKS_PROBE, loadWithJwksProbe, loginAlone, loginRequest, memoryUnderRandomKids,
  type MemoryReport
} from './scenarios.js'
import { BARE_PATH, CEILING_PATH, DPOP_BOUND_PATH, FASTIFY_JWT_ONLY_PATH, HASH_ONLY_PATH, RSA_ONLY_PATH, VERIFIED_TOKEN_CACHE_ON, type ServerSpec } from './targets.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench-results.json' }
  }
})
const ROUNDS = Number(args.rounds)
const DURATION = Number(args.duration)
const WARM_UP = 2
const CONNECTIONS = 10
const MEMORY_REQUESTS = 100_000
const LOGIN = { username: 'bench-user', password: 'correct horse battery staple' }
const PROFILE_DIR = args.profile ? join(process.cwd(), 'bench-profiles') : undefined

const startedAt = new Date()
if (PROFILE_DIR) await rm(PROFILE_DIR, { recursive: true, force: true })
const dir = await mkdtemp(join(tmpdir(), 'fastify-ssot-bench-'))
const children: ServerChild[] = []
const productions: ProductionChild[] = []
const logDir = join(dir, 'logs')
const samples = new Samples()
let memory: MemoryReport | undefined
let revocation: RevocationReport | undefined
let mainMeasured = false

async function start (name: string, spec: ServerSpec, options: ChildOptions = {}): Promise<ServerChild> {
  const child = await startServer(name, spec, { profileDir: PROFILE_DIR, logDir, ...options })
  children.push(child)
  return child
}

/** `node dist/services/<service>/server.js`, as npm run start:<service> runs it. */
async function startCompiled (name: string, service: 'auth' | 'resource', env: Record<string, string>): Promise<ProductionChild> {
  const child = await startProduction(name, service, env, logDir, PROFILE_DIR)
  productions.push(child)
  return child
}

interface Target { name: string, run: (duration: number) => Promise<Sample | Record<string, Sample>> }

async function measure (only: string[] | undefined): Promise<void> {
  const keysDir = join(dir, 'keys')
  await ensureKeyFiles(keysDir)
  const databaseUrl = `sqlite:${join(dir, 'auth.sqlite')}`
  const client = await addBenchClient(databaseUrl)
  const browserClient = await addBenchBrowserClient(databaseUrl)
  const auth = await start('auth', { kind: 'auth', keysDir, databaseUrl, ...LOGIN })
  const sessionCookie = await openBrowserSession(auth, browserClient, LOGIN)
  const tokens = await issueTokens(auth, 50, client, LOGIN)
  const ceiling = await start('bare-fastify', { kind: 'bare' })
  const ours = await start('resource-bounds', { kind: 'resource', issuer: auth.url, tokenCache: false })
  const documented = await start('documented', { kind: 'documented' })
  const bare = await start('bare-verifier', { kind: 'bare-verifier', issuer: auth.url })
  // The production start, default settings: the resource services trust the bench's auth service
  // (it signed the tokens); the JWKS row reads a compiled auth service with its own key ring.
  const cacheOff = await startCompiled('resource-production', 'resource', { ISSUER_URL: auth.url })
  // The same start with request logging off (LOG_LEVEL=warn): what the info lines cost, in this run.
  const quiet = await startCompiled('resource-production-warn', 'resource', { ISSUER_URL: auth.url, LOG_LEVEL: 'warn' })
  const cacheOn = await startCompiled('resource-production-cache-on', 'resource', { ISSUER_URL: auth.url, TOKEN_CACHE_MAX: String(VERIFIED_TOKEN_CACHE_ON.tokenCacheMax) })
  await ensureKeyFiles(join(dir, 'keys-production'))
  const authCompiled = await startCompiled('auth-production', 'auth', {
    KEYS_DIR: join(dir, 'keys-production'),
    DATABASE_URL: `sqlite:${join(dir, 'auth-production.sqlite')}`,
    // The production start refuses to run without one.
    COOKIE_SECRET: randomBytes(32).toString('base64')
  })
  for (const server of [cacheOff, cacheOn, documented, bare]) await expectOk(server, '/resource/protected', tokens[0]!)
  await expectOk(ours, RSA_ONLY_PATH, tokens[0]!)
  const signer = proofSigner()
  const boundToken = await issueBoundToken(auth, client, signer)
  await expectDpopOk(ours, '/resource/protected', boundToken, signer)
  await expectDpopOk(ours, DPOP_BOUND_PATH, boundToken, signer)
  await expectOk(bare, RSA_ONLY_PATH, tokens[0]!)

  const load = (url: string, path: string) => (duration: number) =>
    runLoad({ url, requests: bearerRequests(path, tokens), connections: CONNECTIONS, duration })
  const plain = (url: string) => (duration: number) => runLoad({ url, connections: CONNECTIONS, duration })
  const issuance = issuanceRequest(client)
  let targets: Target[] = [
    { name: BARE_FASTIFY_NAME, run: plain(`${ceiling.url}${BARE_PATH}`) },
    { name: HEALTH_NAME, run: plain(`${cacheOff.url}/health`) },
    { name: HEALTH_WARN_NAME, run: plain(`${quiet.url}/health`) },
    { name: 'ceiling: no auth, same resource app', run: load(ours.url, CEILING_PATH) },
    { name: RSA_ONLY_NAME, run: load(ours.url, RSA_ONLY_PATH) },
    { name: 'protected, token cache off', run: load(cacheOff.url, '/resource/protected') },
    { name: 'protected, token cache on', run: load(cacheOn.url, '/resource/protected') },
    {
      // Our verifier like for like in the bare app, measured in alternation (see alternately).
      name: `like for like, bare app: ${DOCUMENTED_NAME}, ${BARE_VERIFIER_NAME}, ${FASTIFY_JWT_ONLY_NAME}, ${BARE_RSA_ONLY_NAME}`,
      run: (duration) => alternately({
        [DOCUMENTED_NAME]: load(documented.url, '/resource/protected'),
        [BARE_VERIFIER_NAME]: load(bare.url, '/resource/protected'),
        [FASTIFY_JWT_ONLY_NAME]: load(bare.url, FASTIFY_JWT_ONLY_PATH),
        [BARE_RSA_ONLY_NAME]: load(bare.url, RSA_ONLY_PATH)
      }, duration)
    },
    {
      // DPoP against Bearer on the same route of the same app (cache off), in alternation, and the bound beside them.
      name: `DPoP: ${DPOP_BEARER_NAME}, ${DPOP_NAME}, ${DPOP_BOUND_NAME}`,
      run: (duration) => alternately({
        [DPOP_BEARER_NAME]: load(ours.url, '/resource/protected'),
        [DPOP_NAME]: dpopLoad(ours, '/resource/protected', boundToken, signer, CONNECTIONS),
        [DPOP_BOUND_NAME]: dpopLoad(ours, DPOP_BOUND_PATH, boundToken, signer, CONNECTIONS)
      }, duration)
    },
    { name: 'JWKS endpoint', run: plain(`${authCompiled.url}/.well-known/jwks.json`) },
    { name: ISSUANCE_NAME, run: (duration) => runLoad({ url: `${auth.url}${issuance.path}`, ...issuance, connections: CONNECTIONS, duration }) },
    { name: 'RS256 verify, node:crypto, 1 core', run: async (duration) => ({ rps: rs256VerifyRate(duration * 200) }) },
    { name: 'RS256 sign, node:crypto, 1 core', run: async (duration) => ({ rps: rs256SignRate(duration * 200) }) },
    {
      name: 'JWKS probe, auth idle',
      run: async (duration) => {
        const { result, loopDelay } = await auth.loopDelayDuring(() => runLoad({ url: `${auth.url}/.well-known/jwks.json`, ...JWKS_PROBE, duration }))
        return { 'JWKS probe, auth idle': result, [LOOP_DELAY_IDLE]: loopDelay }
      }
    },
    {
      name: 'argon2id hash alone',
      // 15 hashes: the first ones after a load target are slower while that load's processes wind down.
      run: async () => ({ p50: median(await argon2HashTimes(15)) })
    },
    {
      name: HASH_AT_ONCE_NAME,
      run: async () => ({ p50: median(await argon2HashTimes(5, LOGIN_CLIENTS)) })
    },
    { name: 'login, 1 client', run: (duration) => loginAlone(auth, LOGIN, duration) },
    // Beside the login rows: a sign-in where the browser already has a session (no password hash).
    { name: SSO_NAME, run: (duration) => ssoSignIns(auth, browserClient, sessionCookie, duration) },
    {
      name: 'login',
      run: async (duration) => {
        const { result: { load, jwks }, loopDelay } = await auth.loopDelayDuring(() => loadWithJwksProbe(auth, loginRequest(LOGIN), duration))
        return { [`login, ${LOGIN_CLIENTS} clients`]: load, 'JWKS probe, during login': jwks, [LOOP_DELAY_LOGIN]: loopDelay }
      }
    },
    {
      name: HASH_ONLY_NAME,
      run: async (duration) => {
        const { load, jwks } = await loadWithJwksProbe(auth, { method: 'GET', path: HASH_ONLY_PATH, headers: {} }, duration)
        return { [HASH_ONLY_NAME]: load, [JWKS_DURING_HASH_ONLY]: jwks }
      }
    }
  ]

  if (only) targets = targets.filter((target) => only.some((word) => target.name.includes(word)))
  process.stdout.write('warming up')
  for (const target of targets) {
    await target.run(WARM_UP)
    process.stdout.write('.')
  }
  for (let round = 0; round < ROUNDS; round++) {
    process.stdout.write(`\nround ${round + 1}/${ROUNDS}`)
    // Each round starts one target later, so no target always runs first or last.
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!
      const result = await target.run(DURATION)
      if ('rps' in result || 'p50' in result) samples.add(target.name, result as Sample)
      else for (const [row, sample] of Object.entries(result)) samples.add(row, sample)
      process.stdout.write('.')
    }
  }
  if (!only || only.includes('memory')) {
    process.stdout.write('\nmemory under a random-kid flood\n')
    const fresh = await start('resource-memory', { kind: 'resource', issuer: auth.url, tokenCache: false }, { exposeGc: true })
    memory = await memoryUnderRandomKids(fresh, tokens, MEMORY_REQUESTS)
    samples.add(`random-kid flood, ${MEMORY_REQUESTS / 1000}k requests (401s)`, memory.flood)
  }
}

function machine () {
  const cores = cpus()
  return {
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAverage: loadavg().map((v) => Number(v.toFixed(2)))
  }
}

try {
  await mkdir(logDir)
  const only = args.only?.split(',')
  // `--only=revocation` alone starts none of the other servers.
  mainMeasured = !only?.every((word) => word === REVOCATION_PART)
  if (mainMeasured) await measure(only)
  if (!only || only.some((word) => REVOCATION_PART.includes(word))) {
    revocation = await measureRevocation({ dir, logDir, rounds: ROUNDS, duration: DURATION, warmUp: WARM_UP, connections: CONNECTIONS, samples })
  }
} finally {
  await Promise.all([...children, ...productions].map((child) => child.close()))
  await rm(dir, { recursive: true, force: true })
}

const MB = 2 ** 20
const ratios = {
  ...(mainMeasured && { production: productionRatios(samples), verifier: verifierRatios(samples), services: targetRatios(samples, memory), dpop: dpopRatios(samples) }),
  ...(revocation && { revocation: revocationRatios(samples, revocation) })
}
const host = machine()
console.log(`\nfastify-ssot bench, ${startedAt.toISOString()}, ${host.cpu} x${host.cores}, Node ${host.node}, load average ${host.loadAverage.join(' ')}`)
console.log(`command: npm run bench -- --rounds=${ROUNDS} --duration=${DURATION}; ${CONNECTIONS} connections; medians (min-max) over rounds; took ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s\n`)
console.log(formatTable(samples))
if (memory) {
  const line = (label: string, key: 'rss' | 'heapUsed') =>
    `${label} ${(memory!.before[key] / MB).toFixed(1)} MB -> ${(memory!.after[key] / MB).toFixed(1)} MB (${((memory!.after[key] - memory!.before[key]) / MB).toFixed(1)} MB)`
  console.log(`\nresource service memory${memory.gcExposed ? ' after GC' : ''}: ${line('RSS', 'rss')}; ${line('heapUsed', 'heapUsed')}`)
}
if (ratios.production) {
  console.log(`\nverified-token cache on means ${JSON.stringify(VERIFIED_TOKEN_CACHE_ON)}\n`)
  console.log('targets: the production start at default settings, against bare Fastify\n' + formatRatios(ratios.production))
  console.log('\ntargets: our verifier (get-jwks, fast-jwt, @fastify/jwt and our layer) in a bare app, like for like\n' + formatRatios(ratios.verifier!))
  console.log('\ntargets: the services against our own app\'s unauthenticated route\n' + formatRatios(ratios.services!))
  console.log('\ntargets: DPoP against Bearer, the same route, token cache off\n' + formatRatios(ratios.dpop!))
  console.log(`\n${informationLines(samples, host.cores).join('\n')}`)
  console.log(dpopLines(samples).join('\n'))
}
if (revocation) {
  console.log('\ntargets: revocation, 2 auth replicas on PostgreSQL (production start), 3 verifiers\n' + formatRatios(ratios.revocation!))
  console.log(`\n${revocationLines(revocation).join('\n')}`)
}
await writeFile(args.out, JSON.stringify({
  date: startedAt.toISOString(),
  machine: host,
  command: `npm run bench -- --rounds=${ROUNDS} --duration=${DURATION}`,
  connections: CONNECTIONS,
  cacheOnOption: VERIFIED_TOKEN_CACHE_ON,
  rows: samples.toJSON(),
  memory,
  revocation,
  ratios
}, null, 2) + '\n')
console.log(`\nwritten to ${args.out}`)
if (PROFILE_DIR) {
  for (const child of [...children, ...productions]) {
    const path = await mainThreadProfile(join(PROFILE_DIR, child.name))
    console.log(`\nCPU profile of ${child.name} (${path ?? 'none written'}):\n${path ? await summariseProfile(path) : ''}`)
  }
}
