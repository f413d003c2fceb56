// The targets of issues 15, 12, 7 and 13, each a ratio (or difference) of medians measured in the same run.
import { DPOP_BEARER_NAME, DPOP_BOUND_NAME, DPOP_NAME } from './dpop.js'
import { atLeast, atMost, type Ratio, type Samples } from './report.js'
import { FEED_OFF_NAME, FEED_ON_NAME, MEMORY_REVOCATIONS, quantileOf, type RevocationReport } from './revocation.js'
import { BARE_FASTIFY_NAME, BARE_RSA_ONLY_NAME, BARE_VERIFIER_NAME, DOCUMENTED_NAME, FASTIFY_JWT_ONLY_NAME, HASH_AT_ONCE_NAME, HEALTH_NAME, HEALTH_WARN_NAME, ISSUANCE_NAME, JWKS_DURING_HASH_ONLY, LOGIN_CLIENTS, LOOP_DELAY_IDLE, LOOP_DELAY_LOGIN, RSA_ONLY_NAME, type MemoryReport } from './scenarios.js'

const MB = 2 ** 20

/** Issue 15: the production start at default settings (logging at info) against bare Fastify. */
export function productionRatios (samples: Samples): Ratio[] {
  const rps = (row: string) => samples.median(row, 'rps')
  const bare = rps(BARE_FASTIFY_NAME)
  const cacheOff = rps('protected, token cache off')
  return [
    atLeast('our /health / bare Fastify', rps(HEALTH_NAME) / bare, 0.6),
    atLeast('protected cache off / bare Fastify', cacheOff / bare, 0.35),
    atLeast('protected cache off / documented setup', cacheOff / rps(DOCUMENTED_NAME), 1.5),
    atLeast('protected cache on / bare Fastify', rps('protected, token cache on') / bare, 0.5),
    atLeast('JWKS endpoint / bare Fastify', rps('JWKS endpoint') / bare, 0.6)
  ]
}

/**
 * Our verifier in the documented setup's bare app, like for like: against that setup, and against
 * @fastify/jwt alone with a key map and no check (the floor of the stack it is built on).
 */
export function verifierRatios (samples: Samples): Ratio[] {
  const rps = (row: string) => samples.median(row, 'rps')
  const ours = rps(BARE_VERIFIER_NAME)
  return [
    atLeast('our verifier, bare app / documented setup', ours / rps(DOCUMENTED_NAME), 1.4),
    atLeast('our verifier, bare app / @fastify/jwt alone, bare app', ours / rps(FASTIFY_JWT_ONLY_NAME), 0.9)
  ]
}

/** Issue 7: the verifier and the auth service against our own app's unauthenticated route. */
export function targetRatios (samples: Samples, memory: MemoryReport | undefined): Ratio[] {
  const rps = (row: string) => samples.median(row, 'rps')
  const ceiling = rps('ceiling: no auth, same resource app')
  const cacheOff = rps('protected, token cache off')
  const loginP50 = samples.median(`login, ${LOGIN_CLIENTS} clients`, 'p50')
  const hash = samples.median('argon2id hash alone', 'p50')
  const ratios = [
    atLeast('protected cache off / ceiling', cacheOff / ceiling, 0.35),
    atLeast('protected cache off / documented setup', cacheOff / rps(DOCUMENTED_NAME), 2),
    atLeast('protected cache on / ceiling', rps('protected, token cache on') / ceiling, 0.8),
    atLeast('JWKS endpoint / ceiling', rps('JWKS endpoint') / ceiling, 0.9),
    atLeast('token issuance / RS256 sign rate', rps(ISSUANCE_NAME) / rps('RS256 sign, node:crypto, 1 core'), 0.6),
    atMost('login p50 - argon2id hash (ms)', loginP50 - hash, 15, 'ms'),
    atMost('JWKS p99 during login / idle p99', samples.median('JWKS probe, during login', 'p99') / samples.median('JWKS probe, auth idle', 'p99'), 3, '', true)
  ]
  if (memory) {
    ratios.push(
      atMost('RSS growth after random kids (MB)', (memory.after.rss - memory.before.rss) / MB, 30, 'MB'),
      atMost('heapUsed growth after random kids (MB)', (memory.after.heapUsed - memory.before.heapUsed) / MB, 30, 'MB'))
  }
  return ratios
}

/** DPoP: the same route with a bound token and a proof per request, against Bearer, token cache off, in alternation. */
export function dpopRatios (samples: Samples): Ratio[] {
  const rps = (row: string) => samples.median(row, 'rps')
  return [atLeast('protected DPoP / protected Bearer, cache off', rps(DPOP_NAME) / rps(DPOP_BEARER_NAME), 0.55)]
}

/** What the DPoP ratio comes from: the bound (two signature checks) against the RS256-only one. */
export function dpopLines (samples: Samples): string[] {
  const rps = (row: string) => samples.median(row, 'rps')
  return [
    `DPoP bound (kid lookup, RS256 verify, proof ES256 verify, same app): ${Math.round(rps(DPOP_BOUND_NAME))} req/s, ` +
      `${(rps(DPOP_BOUND_NAME) / rps(RSA_ONLY_NAME)).toFixed(2)} of the RS256-only bound; our DPoP route reaches ${(rps(DPOP_NAME) / rps(DPOP_BOUND_NAME)).toFixed(2)} of it`
  ]
}

/** Bounds that explain the ratios: what no implementation could beat on this machine. */
export function informationLines (samples: Samples, cores: number): string[] {
  const rps = (row: string) => samples.median(row, 'rps')
  const hash = samples.median('argon2id hash alone', 'p50')
  const documented = rps(DOCUMENTED_NAME)
  const leastAnyVerifier = rps(RSA_ONLY_NAME)
  const bare = rps(BARE_FASTIFY_NAME)
  return [
    `bounds against bare Fastify: our resource app's unauthenticated route ${(rps('ceiling: no auth, same resource app') / bare).toFixed(2)} ` +
      `(what logging, metrics, security headers and load shedding leave of it); a kid lookup + RS256 verify in that app ${(leastAnyVerifier / bare).toFixed(2)} ` +
      '(the least any verifier can reach there)',
    `our /health with request logging off (LOG_LEVEL=warn): ${(rps(HEALTH_WARN_NAME) / bare).toFixed(2)} of bare Fastify; ` +
      `logging one line per request at info costs ${(100 * (1 - rps(HEALTH_NAME) / rps(HEALTH_WARN_NAME))).toFixed(0)}% of its throughput`,
    `the least any verifier can do in our app (a kid lookup and one RS256 verify, measured: ${Math.round(leastAnyVerifier)} req/s) is ` +
      `${(leastAnyVerifier / documented).toFixed(2)} x the documented setup; ours reaches ${(rps('protected, token cache off') / leastAnyVerifier).toFixed(2)} of it`,
    `like for like, our verifier in the documented setup's bare app: ${(rps(BARE_VERIFIER_NAME) / documented).toFixed(2)} x the documented setup`,
    `in that bare app, @fastify/jwt alone (a key map, no checks) reaches ${(rps(FASTIFY_JWT_ONLY_NAME) / rps(BARE_RSA_ONLY_NAME)).toFixed(2)} of a bare kid lookup + RS256 verify; ` +
      `our verifier reaches ${(rps(BARE_VERIFIER_NAME) / rps(FASTIFY_JWT_ONLY_NAME)).toFixed(2)} of @fastify/jwt alone (what get-jwks and our layer cost)`,
    'JWKS p99 during the argon2id-only route\'s load (the least any login can do) / idle p99: ' +
      `${(samples.median(JWKS_DURING_HASH_ONLY, 'p99') / samples.median('JWKS probe, auth idle', 'p99')).toFixed(2)}`,
    `auth event-loop delay p99 (1 ms resolution included): ${samples.median(LOOP_DELAY_IDLE, 'p99').toFixed(2)} ms idle, ` +
      `${samples.median(LOOP_DELAY_LOGIN, 'p99').toFixed(2)} ms during the ${LOGIN_CLIENTS}-client login load`,
    `login with 1 client: p50 - argon2id hash = ${(samples.median('login, 1 client', 'p50') - hash).toFixed(1)} ms (the login path's own cost)`,
    `login with ${LOGIN_CLIENTS} clients always waiting on ${cores} cores: Little's law puts p50 at >= ${LOGIN_CLIENTS} x hash / cores = ` +
      `${(LOGIN_CLIENTS * hash / cores).toFixed(1)} ms even if nothing but the hash ran`,
    `login with ${LOGIN_CLIENTS} clients: p50 - argon2id hash with ${LOGIN_CLIENTS} at once = ` +
      `${(samples.median(`login, ${LOGIN_CLIENTS} clients`, 'p50') - samples.median(HASH_AT_ONCE_NAME, 'p50')).toFixed(1)} ms ` +
      '(the login path\'s own cost under that load)'
  ]
}

/** Issue 13: revocation across 2 auth replicas on PostgreSQL and 3 verifiers, measured in the same run. */
export function revocationRatios (samples: Samples, report: RevocationReport): Ratio[] {
  const { before, held, expired } = report.memory
  const lost = Object.values(report.lost.lost).reduce((sum, count) => sum + count, 0)
  return [
    atMost('revocation to 401, p99 (ms)', quantileOf(report.latency.all, 0.99), 1000, 'ms', true),
    atMost('revoked tokens accepted after a replica restart and a cut feed', lost, 0, ''),
    atLeast('protected, revocation feed on / off', samples.median(FEED_ON_NAME, 'rps') / samples.median(FEED_OFF_NAME, 'rps'), 0.95),
    // Bounded by the live set: once they have expired, the heap they took is given back.
    atMost(`heapUsed kept once the ${MEMORY_REVOCATIONS / 1000}k expired / taken while live`,
      expired ? (expired.heapUsed - before.heapUsed) / (held.heapUsed - before.heapUsed) : Number.NaN, 0.1, '')
  ]
}

/** What the revocation ratios come from. */
export function revocationLines ({ latency, lost, memory }: RevocationReport): string[] {
  const ms = (values: number[], q: number) => quantileOf(values, q).toFixed(1)
  const mb = (bytes: number) => (bytes / MB).toFixed(1)
  const { before, held, expired } = memory
  const lostAt = Object.entries(lost.lost).map(([name, count]) => `${name} ${count}`).join(', ')
  return [
    `revocation to 401 over ${latency.all.length} samples (${latency.all.length / 3} logouts x 3 verifiers): p50 ${ms(latency.all, 0.5)} ms, ` +
      `p99 ${ms(latency.all, 0.99)} ms, max ${ms(latency.all, 1)} ms; verifiers following the replica that logged out: p50 ${ms(latency.sameReplica, 0.5)}, ` +
      `p99 ${ms(latency.sameReplica, 0.99)} ms; following the other replica (it polls the table every 250 ms): p50 ${ms(latency.otherReplica, 0.5)}, p99 ${ms(latency.otherReplica, 0.99)} ms`,
    `${lost.revoked} logouts across both replicas at about 40/s; replica B restarted meanwhile (SIGTERM to answering again: ${Math.round(lost.restartMs)} ms, ` +
      `${lost.redirected} logouts sent to A instead; its follower ${lost.followerSawRestart ? 'lost' : 'had not lost'} its feed meanwhile), and ${lost.streamsCut} feed connection(s) of verifier 2 cut; revoked tokens still accepted: ${lostAt}`,
    `a verifier holding ${memory.count.toLocaleString('en-US')} live revocations${memory.gcExposed ? ' (after GC)' : ''}: heapUsed ${mb(before.heapUsed)} -> ${mb(held.heapUsed)} MB ` +
      `(${Math.round((held.heapUsed - before.heapUsed) / memory.count)} bytes per entry), RSS ${mb(before.rss)} -> ${mb(held.rss)} MB; ` +
      (expired
        ? `once expired and swept (${expired.entries} entries): heapUsed ${mb(expired.heapUsed)} MB, RSS ${mb(expired.rss)} MB`
        : 'not swept before the deadline')
  ]
}
