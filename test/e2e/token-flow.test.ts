// The SSOT flow over real HTTP: login at the auth service, protected call at the resource service,
// whose verifier fetches the JWKS over the network; and an independent verifier (jose) agrees.
import t from 'tap'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { addUser, login, startAuth, startResource } from '../helper.js'

t.test('login, then a protected call verified through the JWKS over HTTP', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'alice', 'correct horse battery')
  const resource = await startResource(t, auth.url)

  const { status, body } = await login(auth.url, 'alice', 'correct horse battery')
  t.equal(status, 200)
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 900, 'default lifetime is 15 minutes')

  const response = await fetch(`${resource.url}/resource/protected`, {
    headers: { authorization: `Bearer ${body.access_token as string}` }
  })
  t.equal(response.status, 200)
  const user = await auth.store.users.findByUsername('alice')
  t.same(await response.json(), {
    message: 'This is a protected resource',
    user: { userId: user!.id, username: 'alice' }
  })
})

t.test('jose verifies our tokens with nothing but the JWKS URL', async (t) => {
  const auth = await startAuth(t)
  await addUser(auth, 'bob', 'hunter2 hunter2')
  const { body } = await login(auth.url, 'bob', 'hunter2 hunter2')
  const token = body.access_token as string

  const jwks = createRemoteJWKSet(new URL(`${auth.url}/.well-known/jwks.json`))
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: auth.url, audience: 'ssot-api', typ: 'at+jwt', algorithms: ['RS256']
  })
  t.equal(protectedHeader.kid, auth.issuer.keyRing.activeKey().kid, 'kid names the active key')
  t.match(payload, {
    iss: auth.url, aud: 'ssot-api', username: 'bob', client_id: 'first-party-login', scope: 'profile', jti: String
  })
  t.equal(payload.exp! - payload.iat!, 900)
})
