// The verifier follows its issuer's revocation feed: a revoked session or token is 401 `revoked`
// with no call per request, cached tokens included; a verifier that starts late gets the snapshot,
// one that reconnects gets what it missed; the feed down keeps the last set, and failClosedAfter
// refuses tokens once it has been gone that long.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { revocationHash } from '../../plugins/shared/revocation-hash.js'
import pino from 'pino'
import { createDiscovery } from '../../plugins/verifier/discovery.js'
import { createKeyAgent } from '../../plugins/verifier/key-agent.js'
import { createRevocationFeed } from '../../plugins/verifier/revocation-feed.js'
import { createRevocationSet } from '../../plugins/verifier/revocation-set.js'
import { captureLogs, startResource } from '../helper.js'
import { buildVerifierApp, callWith, makeKey, signToken, sleep, startFeedIssuer, startHungServer } from './helpers.js'

const key = makeKey()

async function until (condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await sleep(20)
  if (!condition()) throw new Error(`timed out waiting for ${what}`)
}

async function follower (t: Test, issuer: { url: string }, extra: Record<string, unknown> = {}) {
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', discovery: true, revocations: {}, ...extra })
  await until(() => app.verifier.stats().revocations.synced === 1, 'the feed')
  return app
}

t.test('a revoked session, or one revoked token, is refused at once; the rest still pass', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const app = await follower(t, issuer, { tokenCacheMax: 100 })
  const sid = randomUUID()
  const sessionTokens = [signToken(key, issuer.url, { sid }), signToken(key, issuer.url, { sid })]
  const lone = signToken(key, issuer.url, { sid: randomUUID() })
  const other = signToken(key, issuer.url, { sid: randomUUID() })
  for (const token of [...sessionTokens, lone, other]) t.equal((await callWith(app, token)).statusCode, 200, 'valid (and now cached)')
  issuer.publish(revocationHash('sid', sid))
  issuer.publish(revocationHash('jti', JSON.parse(Buffer.from(lone.split('.')[1]!, 'base64url').toString()).jti))
  await until(() => app.verifier.stats().revocations.entries === 2, 'both events')
  for (const token of [...sessionTokens, lone]) {
    const refused = await callWith(app, token)
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, 'AUTH_TOKEN_INVALID')
    t.match(refused.headers['www-authenticate'], /error="invalid_token", error_description="The access token is invalid: the token has been revoked"/)
  }
  t.equal((await callWith(app, other)).statusCode, 200, 'another session is untouched')
  const sessionless = signToken(key, issuer.url)
  t.equal((await callWith(app, sessionless)).statusCode, 200, 'a token without sid, from another issuer say, is checked by its jti')
  issuer.publish(revocationHash('jti', JSON.parse(Buffer.from(sessionless.split('.')[1]!, 'base64url').toString()).jti))
  await until(() => app.verifier.stats().revocations.entries === 3, 'the third event')
  t.equal((await callWith(app, sessionless)).statusCode, 401)
  t.match(app.verifier.stats().revocations, { feeds: 1, synced: 1, entries: 3, goneSeconds: 0 })
})

t.test('a verifier started after the revocation gets it from the snapshot', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const sid = randomUUID()
  issuer.publish(revocationHash('sid', sid))
  issuer.publish(revocationHash('sid', randomUUID()), Math.floor(Date.now() / 1000) - 3600) // long expired: dropped on the sweep
  const app = await follower(t, issuer)
  t.equal((await callWith(app, signToken(key, issuer.url, { sid }))).statusCode, 401)
  t.equal(issuer.lastEventIds[0], undefined, 'the first connection asks for everything')
})

t.test('a reconnecting verifier resumes with Last-Event-ID and misses nothing', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const app = await follower(t, issuer)
  issuer.publish(revocationHash('sid', randomUUID()))
  await until(() => app.verifier.stats().revocations.entries === 1, 'the first event')
  issuer.down = true
  issuer.cut()
  await until(() => app.verifier.stats().revocations.synced === 0, 'the loss')
  const missed = Array.from({ length: 3 }, () => randomUUID())
  for (const sid of missed) issuer.publish(revocationHash('sid', sid))
  t.equal((await callWith(app, signToken(key, issuer.url, { sid: missed[0] }))).statusCode, 200, 'not known yet: the feed is down')
  issuer.down = false
  await until(() => app.verifier.stats().revocations.synced === 1, 'the reconnection')
  t.equal(issuer.lastEventIds.at(-1), '1', 'resumed after the last event it had')
  for (const sid of missed) t.equal((await callWith(app, signToken(key, issuer.url, { sid }))).statusCode, 401)
  t.equal(app.verifier.stats().revocations.entries, 4)
})

t.test('a stream that ends, or sends an event it cannot read, is followed again from where it was', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const logs = captureLogs('warn')
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', discovery: true, revocations: {} }, logs.logger)
  await until(() => app.verifier.stats().revocations.synced === 1, 'the feed')
  issuer.publish(revocationHash('sid', randomUUID()))
  await until(() => app.verifier.stats().revocations.entries === 1, 'the first event')
  issuer.end()
  await until(() => issuer.connections === 2 && issuer.followers() === 1, 'a reconnection after the end')
  issuer.send('event: something-newer\ndata: {}\n\n') // an event type it does not know is skipped
  issuer.send('event: revoked\ndata: {"hash":"not-a-digest"}\n\n')
  await until(() => issuer.connections === 3 && issuer.followers() === 1, 'a reconnection after the bad event')
  t.same(issuer.lastEventIds, [undefined, '1', '1'])
  t.match(logs.lines.map((line) => line.err), [/ended the stream/, /a revoked event without a hash and an exp/])
})

t.test('the feed down keeps the last set; failClosedAfter refuses tokens once it is gone that long', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const sid = randomUUID()
  issuer.publish(revocationHash('sid', sid))
  const open = await follower(t, issuer)
  const closed = await follower(t, issuer, { revocations: { failClosedAfter: 300 } })
  issuer.down = true
  issuer.cut()
  await until(() => open.verifier.stats().revocations.synced === 0 && closed.verifier.stats().revocations.synced === 0, 'the loss')
  const fresh = signToken(key, issuer.url, { sid: randomUUID() })
  t.equal((await callWith(open, signToken(key, issuer.url, { sid }))).statusCode, 401, 'the last set is kept')
  t.equal((await callWith(open, fresh)).statusCode, 200, 'fail open by default')
  t.equal((await callWith(closed, fresh)).statusCode, 200, 'within failClosedAfter')
  await sleep(400)
  const refused = await callWith(closed, fresh)
  t.equal(refused.statusCode, 503, 'past failClosedAfter')
  t.equal(refused.json().code, 'AUTH_REVOCATIONS_UNAVAILABLE')
  t.match(refused.headers['retry-after'], /^\d+$/)
  t.ok(closed.verifier.stats().revocations.goneSeconds >= 0.3)
  issuer.down = false
  await until(() => closed.verifier.stats().revocations.synced === 1, 'the reconnection')
  t.equal((await callWith(closed, fresh)).statusCode, 200, 'back once the feed is')
})

t.test('an issuer that advertises no feed: nothing followed, tokens verified as usual', async (t) => {
  const issuer = await startFeedIssuer(t, [key], false)
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', discovery: true, revocations: { failClosedAfter: 0 } })
  await until(() => app.verifier.stats().revocations.feeds === 0, 'the discovery document read')
  t.equal((await callWith(app, signToken(key, issuer.url))).statusCode, 200)
  t.match(app.verifier.stats().revocations, { feeds: 0, synced: 0, goneSeconds: 0 })
  t.equal(issuer.connections, 0)
})

t.test('failClosedAfter holds while the feed is still to be found: the discovery document unreadable from the start', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  issuer.discoveryDown = true
  const resource = await startResource(t, issuer.url, { JWKS_URL: `${issuer.url}/jwks`, REVOCATION_FAIL_CLOSED_AFTER: '1s' })
  const token = signToken(key, issuer.url)
  const protectedCall = () => fetch(`${resource.url}/resource/protected`, { headers: { authorization: `Bearer ${token}` } })
  await sleep(1100)
  const refused = await protectedCall()
  t.equal(refused.status, 503, 'refused: revocations may have been missed for longer than failClosedAfter')
  t.match(await refused.json(), { code: 'AUTH_REVOCATIONS_UNAVAILABLE' })
  t.match(resource.verifier.stats().revocations, { feeds: 1, synced: 0, failedClosed: 1 })
  const ready = await fetch(`${resource.url}/ready`)
  t.equal(ready.status, 503, '/ready fails')
  t.match(await ready.json(), { checks: { revocations: /tokens are refused/ } })
  issuer.discoveryDown = false
  await until(() => resource.verifier.stats().revocations.synced === 1, 'the feed, once the document can be read')
  t.equal((await protectedCall()).status, 200)
})

t.test('fail-closed counts from the last data the feed sent, not from when its loss is noticed', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const app = await follower(t, issuer, { revocations: { failClosedAfter: 300 } })
  const token = signToken(key, issuer.url)
  await sleep(400) // a quiet feed: nothing sent since it synced
  t.equal((await callWith(app, token)).statusCode, 200, 'connected: a quiet feed is not a lost one')
  issuer.down = true
  issuer.cut()
  await until(() => app.verifier.stats().revocations.synced === 0, 'the loss')
  const refused = await callWith(app, token)
  t.equal(refused.statusCode, 503, 'refused at once: the last data came more than 300 ms ago')
  t.ok(app.verifier.stats().revocations.goneSeconds >= 0.4)
})

t.test('a feed that syncs and then sends garbage is reconnected with a growing backoff', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  issuer.garbageAfterSync = true
  await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', discovery: true, revocations: {} })
  await until(() => issuer.connections === 1, 'the first connection')
  await sleep(2000)
  // 250 ms, 500 ms, 1 s...: at most 4 connections in 2 s (8 if each synced event reset the backoff).
  t.ok(issuer.connections <= 4, `${issuer.connections} connections in 2 s`)
})

t.test('once a stream has stayed up a while, the backoff starts again from its first step, and a failure is logged again', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  const logs = captureLogs('warn')
  const agent = createKeyAgent({ deadline: undefined, timeout: 1000, maxBytes: Infinity, contentType: /event-stream/ }, 'text/event-stream')
  const set = createRevocationSet({ clockTolerance: 0, maxEntries: 10, maxLifetime: 60_000 })
  const feed = createRevocationFeed(issuer.url, { feedUrl: `${issuer.url}/revocations`, failClosedAfter: undefined, rediscoverEvery: 1000, stableAfter: 150, allowedOrigins: [] },
    set, createDiscovery(issuer.url, agent, () => {}), { json: agent, stream: agent }, pino(logs.logger, logs.stream))
  t.teardown(async () => { feed.close(); set.close(); await agent.close() })
  feed.start()
  for (const connection of [1, 2, 3]) {
    await until(() => issuer.connections === connection && feed.status().synced, `connection ${connection}`)
    await sleep(200) // up longer than stableAfter
    issuer.end()
  }
  await until(() => issuer.connections === 4, 'the fourth connection')
  t.equal(logs.lines.filter((line) => /ended the stream/.test(String(line.err))).length, 3, 'the same failure, logged after each stable stream')
})

t.test('a feed that sends more live revocations than maxEntries is refused; the set keeps what fits', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  for (let i = 0; i < 5; i++) issuer.publish(revocationHash('sid', randomUUID()))
  const logs = captureLogs('error')
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', discovery: true, revocations: { maxEntries: 3 } }, logs.logger)
  await until(() => logs.lines.length > 0, 'the refusal')
  t.match(logs.lines[0], { msg: /revocation feed lost/, err: /more live revocations than revocations\.maxEntries \(3\)/ })
  t.match(app.verifier.stats().revocations, { feeds: 1, synced: 0, entries: 3 })
})

t.test('an issuer whose discovery document cannot be read yet: the feed is found once it can', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  issuer.discoveryDown = true
  const logs = captureLogs('warn')
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', jwksUrl: `${issuer.url}/jwks`, revocations: {} }, logs.logger)
  await until(() => logs.lines.length > 0, 'a failed discovery')
  t.match(logs.lines[0], { issuer: issuer.url, err: /openid-configuration answered 503/ })
  issuer.discoveryDown = false
  await until(() => app.verifier.stats().revocations.synced === 1, 'the feed')
  t.equal(issuer.connections, 1)
})

t.test('closing the app while the feed is being reached ends that request', async (t) => {
  const hung = await startHungServer(t)
  const key2 = makeKey()
  const issuer = await startFeedIssuer(t, [key2])
  const app = await buildVerifierApp(t, { issuer: issuer.url, audience: 'ssot-api', jwksUrl: `${issuer.url}/jwks`, revocations: { feedUrl: `${hung.url}/revocations` } })
  await until(() => hung.pending() === 1, 'the feed request')
  await app.close()
  await until(() => hung.pending() === 0, 'the feed connection to be closed')
  t.pass('closing does not wait for the feed, and leaves no connection open')
})

t.test('a configured feed that never answers: fail open by default, tokens verified as usual', async (t) => {
  const issuer = await startFeedIssuer(t, [key])
  issuer.down = true
  const app = await buildVerifierApp(t, {
    issuer: issuer.url, audience: 'ssot-api', jwksUrl: `${issuer.url}/jwks`, revocations: { feedUrl: `${issuer.url}/revocations` }
  })
  t.equal((await callWith(app, signToken(key, issuer.url))).statusCode, 200)
  t.match(app.verifier.stats().revocations, { feeds: 1, synced: 0 })
})
