// Each HTTP source of a revocation, seen by a follower of GET /revocations over real HTTP: logout,
// RFC 7009 revocation of a refresh token or of an access token, and refresh-token reuse.
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { activeKeyOf, addUser, login, startAuth } from '../helper.js'
import { attackerKey, forge, validClaims } from '../forge.js'
import { basic } from '../sessions/helpers.js'
import { follow, jtiHash, sidHash } from './follow.js'

const PASSWORD = 'correct horse battery'
const now = () => Math.floor(Date.now() / 1000)

async function post (url: string, body: Record<string, string>, headers: Record<string, string> = {}, form = false) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body)
  })
  return { status: response.status, body: response.status === 204 ? {} : await response.json() as Record<string, string> }
}

async function authWithAlice (t: Test) {
  const auth = await startAuth(t, { REVOCATION_FEED_POLL_MS: '20' })
  await addUser(auth, 'alice', PASSWORD)
  const session = async () => (await login(auth.url, 'alice', PASSWORD)).body as Record<string, string>
  return { auth, session }
}

t.test('discovery advertises the feed; an empty feed says synced with an empty id', async (t) => {
  const { auth } = await authWithAlice(t)
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const discovery = await (await fetch(`${auth.url}${path}`)).json() as Record<string, string>
    t.equal(discovery.revocation_feed_endpoint, `${auth.url}/revocations`, path)
    t.equal(discovery.issuer, auth.url, 'the standard members are unchanged')
  }
  const feed = await follow(auth.url)
  t.equal(feed.status, 200)
  t.equal(feed.headers['content-type'], 'text/event-stream')
  t.equal(feed.headers['cache-control'], 'no-store')
  t.same(await feed.snapshot(), { revoked: [], synced: '' })
  feed.close()
})

t.test('logout, revoking a refresh token, and reusing one each revoke the session (its sid)', async (t) => {
  const { auth, session } = await authWithAlice(t)
  const [a, b, c] = [await session(), await session(), await session()]
  t.ok(decodeJwt(a.access_token!).sid, 'user tokens carry sid')
  t.not(decodeJwt(a.access_token!).sid, decodeJwt(b.access_token!).sid, 'one per session')
  const feed = await follow(auth.url)
  await feed.snapshot()

  t.equal((await post(`${auth.url}/auth/logout`, { refresh_token: a.refresh_token! })).status, 204)
  const [loggedOut] = await feed.next()
  t.equal(loggedOut!.hash, sidHash(a.access_token!))
  const ttl = decodeJwt(a.access_token!).exp! - decodeJwt(a.access_token!).iat!
  t.ok(loggedOut!.exp >= now() + ttl + 60 - 5 && loggedOut!.exp <= now() + ttl + 60 + 1, 'exp: revocation time + ACCESS_TOKEN_TTL + 60 s')

  t.equal((await post(`${auth.url}/oauth/revoke`, { token: b.refresh_token! }, {}, true)).status, 200)
  t.equal((await feed.next())[0]!.hash, sidHash(b.access_token!), 'RFC 7009 with a refresh token')

  const rotated = await post(`${auth.url}/auth/refresh`, { refresh_token: c.refresh_token! })
  t.equal(rotated.status, 200)
  t.equal(decodeJwt(rotated.body.access_token!).sid, decodeJwt(c.access_token!).sid, 'a refresh keeps the session id')
  t.equal((await post(`${auth.url}/auth/refresh`, { refresh_token: c.refresh_token! })).status, 401)
  t.equal((await feed.next())[0]!.hash, sidHash(c.access_token!), 'reuse revokes the family')

  // A session revoked twice is one event: the next one is the next logout's.
  await post(`${auth.url}/auth/logout`, { refresh_token: a.refresh_token! })
  const d = await session()
  await post(`${auth.url}/auth/logout`, { refresh_token: d.refresh_token! })
  t.equal((await feed.next())[0]!.hash, sidHash(d.access_token!))
  feed.close()
})

t.test('an access token revoked with /oauth/revoke: its jti until its exp, and only by its own client', async (t) => {
  const { auth, session } = await authWithAlice(t)
  const { clientSecret } = await auth.store.clients.create({ clientId: 'billing', name: 'Billing', scopes: ['orders:read'], audiences: ['ssot-api'] })
  const userToken = (await session()).access_token!
  const clientToken = (await post(`${auth.url}/oauth/token`, { grant_type: 'client_credentials' }, basic('billing', clientSecret), true)).body.access_token!
  const ours = await activeKeyOf(auth.keysDir)
  const header = { alg: 'RS256', typ: 'at+jwt', kid: ours.kid }
  const feed = await follow(auth.url)
  await feed.snapshot()

  const ignored = [
    { token: clientToken, headers: {} }, // a client's token, and no client authentication
    { token: userToken, headers: basic('billing', clientSecret) }, // another client's token
    { token: forge(header, validClaims(auth.url), { alg: 'RS256', privatePem: attackerKey().privatePem }), headers: {} },
    { token: forge(header, validClaims(auth.url, { exp: now() - 1 }), { alg: 'RS256', privatePem: ours.privatePem }), headers: {} },
    { token: forge(header, validClaims('https://other.example'), { alg: 'RS256', privatePem: ours.privatePem }), headers: {} },
    { token: forge({ ...header, typ: 'JWT' }, validClaims(auth.url), { alg: 'RS256', privatePem: ours.privatePem }), headers: {} },
    { token: forge(header, validClaims(auth.url, { jti: 7 }), { alg: 'RS256', privatePem: ours.privatePem }), headers: {} },
    { token: 'bm90.anNvbg.c2ln', headers: {} }
  ]
  for (const { token, headers } of ignored) {
    const answer = await post(`${auth.url}/oauth/revoke`, { token, token_type_hint: 'access_token' }, headers, true)
    t.same(answer, { status: 200, body: {} }, 'ignored, 200 all the same')
  }
  t.equal((await post(`${auth.url}/oauth/revoke`, { token: userToken, token_type_hint: 'access_token' }, {}, true)).status, 200)
  t.equal((await post(`${auth.url}/oauth/revoke`, { token: clientToken }, basic('billing', clientSecret), true)).status, 200)
  const [first, second] = await feed.next(2)
  t.match(first, { hash: jtiHash(userToken), exp: decodeJwt(userToken).exp }, 'a first-party token, unauthenticated')
  t.match(second, { hash: jtiHash(clientToken), exp: decodeJwt(clientToken).exp }, 'a client token, by its client; nothing for the ignored ones')
  t.ok(decodeJwt(clientToken).sid, 'client tokens carry sid: their credential generation')
  t.not(decodeJwt(clientToken).sid, 'billing', 'a random value, not the client id')
  feed.close()
})
