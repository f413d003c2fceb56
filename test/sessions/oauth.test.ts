// /oauth/token and /oauth/revoke as an OAuth 2.0 client sees them (RFC 6749, RFC 7009, RFC 9068).
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { oauthAwareErrorBody } from '../../services/auth/routes/oauth-error-body.js'
import { addUser, buildAuth } from '../helper.js'
import { basic, loginPair, postForm, postJson, refresh } from './helpers.js'

async function appWithClient (t: Test) {
  const app = await buildAuth(t)
  const { clientSecret } = await app.store.clients.create({
    clientId: 'billing', name: 'Billing', scopes: ['orders:read', 'orders:write'], audiences: ['ssot-api', 'reports-api']
  })
  return { app, secret: clientSecret }
}

t.test('client_credentials with HTTP Basic: an RFC 9068 token for the client itself', async (t) => {
  const { app, secret } = await appWithClient(t)
  const response = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, basic('billing', secret))
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  t.equal(response.headers.pragma, 'no-cache')
  const body = response.json()
  t.match(body, { token_type: 'Bearer', expires_in: 900, scope: 'orders:read orders:write' })
  t.notOk('refresh_token' in body, 'no refresh token for client_credentials (RFC 6749 §4.4.3)')
  t.match(decodeJwt(body.access_token), { sub: 'billing', client_id: 'billing', scope: 'orders:read orders:write', aud: 'ssot-api' })
})

t.test('client_credentials with form fields, and with JSON', async (t) => {
  const { app, secret } = await appWithClient(t)
  const form = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'billing', client_secret: secret, scope: 'orders:read' })
  t.equal(form.statusCode, 200)
  t.equal(form.json().scope, 'orders:read')
  const json = await postJson(app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'billing', client_secret: secret, audience: 'reports-api' })
  t.equal(json.statusCode, 200)
  t.equal(decodeJwt(json.json().access_token).aud, 'reports-api')
})

t.test('client authentication failures are 401 invalid_client with a Basic challenge', async (t) => {
  const { app, secret } = await appWithClient(t)
  const attempts = [
    basic('billing', `${secret}x`),
    basic('nobody', secret),
    { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
    { authorization: `Basic ${Buffer.from(`bill%ZZing:${secret}`).toString('base64')}` }
  ]
  for (const headers of attempts) {
    const response = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, headers)
    t.equal(response.statusCode, 401)
    t.equal(response.headers['www-authenticate'], 'Basic realm="oauth"')
    t.match(response.json(), { error: 'invalid_client', code: 'OAUTH_INVALID_CLIENT', error_description: String })
  }
  const bodyFields = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'billing', client_secret: 'wrong' })
  t.equal(bodyFields.statusCode, 401)
  for (const half of [{ client_id: 'billing' }, { client_secret: secret }] as Array<Record<string, string>>) {
    const response = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', ...half })
    t.equal(response.statusCode, 401, `only ${Object.keys(half)[0]}`)
  }
  const noAuth = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' })
  t.equal(noAuth.json().error, 'invalid_client')
  const both = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'billing', client_secret: secret }, basic('billing', secret))
  t.equal(both.statusCode, 400)
  t.equal(both.json().error, 'invalid_request', 'two authentication methods at once')
})

t.test('scope and audience must be the client\'s', async (t) => {
  const { app, secret } = await appWithClient(t)
  for (const scope of ['admin', 'orders:read admin', '']) {
    const response = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', scope }, basic('billing', secret))
    t.equal(response.statusCode, 400, `scope ${JSON.stringify(scope)}`)
    t.equal(response.json().error, 'invalid_scope')
  }
  const audience = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', audience: 'payments-api' }, basic('billing', secret))
  t.equal(audience.statusCode, 400)
  t.equal(audience.json().error, 'invalid_target')
})

t.test('grant types and malformed requests', async (t) => {
  const { app, secret } = await appWithClient(t)
  const unsupported = await postForm(app, '/oauth/token', { grant_type: 'password', username: 'a', password: 'b' })
  t.equal(unsupported.statusCode, 400)
  t.equal(unsupported.json().error, 'unsupported_grant_type')
  const missing = await postForm(app, '/oauth/token', { scope: 'orders:read' }, basic('billing', secret))
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request')
  const noToken = await postForm(app, '/oauth/token', { grant_type: 'refresh_token' })
  t.equal(noToken.json().error, 'invalid_request')
  const xml = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/xml' }, payload: '<x/>' })
  t.equal(xml.statusCode, 415, 'neither form nor JSON')
  t.equal(xml.json().error, 'invalid_request')
})

t.test('grant_type=refresh_token rotates like /auth/refresh, and reuse is invalid_grant', async (t) => {
  const { app } = await appWithClient(t)
  await addUser(app, 'alice', 'correct horse battery')
  const { refresh_token: first } = await loginPair(app, 'alice', 'correct horse battery')
  const rotated = await postForm(app, '/oauth/token', { grant_type: 'refresh_token', refresh_token: first })
  t.equal(rotated.statusCode, 200)
  t.match(rotated.json(), { token_type: 'Bearer', refresh_token: String, access_token: String })
  const reuse = await postForm(app, '/oauth/token', { grant_type: 'refresh_token', refresh_token: first })
  t.equal(reuse.statusCode, 400)
  t.same(reuse.json(), { error: 'invalid_grant', error_description: 'The refresh token is not valid; log in again', statusCode: 400, code: 'OAUTH_INVALID_GRANT' })
  t.equal((await refresh(app, rotated.json().refresh_token)).statusCode, 401, 'the family is revoked')
})

t.test('an unexpected failure is 500 server_error, with no detail for the client', async (t) => {
  const { app, secret } = await appWithClient(t)
  await app.store.db.schema.dropTable('clients').execute()
  const response = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, basic('billing', secret))
  t.equal(response.statusCode, 500)
  t.same(response.json(), { error: 'server_error', error_description: 'Something went wrong on our side', statusCode: 500, code: 'OAUTH_SERVER_ERROR' })
})

t.test('RFC 7009 revocation: 200 for any token, and a revoked session cannot refresh', async (t) => {
  const { app } = await appWithClient(t)
  await addUser(app, 'alice', 'correct horse battery')
  const { refresh_token: token, access_token: accessToken } = await loginPair(app, 'alice', 'correct horse battery')
  for (const unknown of ['never-issued', accessToken]) {
    const response = await postForm(app, '/oauth/revoke', { token: unknown })
    t.equal(response.statusCode, 200)
  }
  // The login client is public: it names itself with client_id alone (RFC 6749 §2.3, §3.2.1).
  const revoked = await postForm(app, '/oauth/revoke', { token, token_type_hint: 'refresh_token', client_id: 'first-party-login' })
  t.equal(revoked.statusCode, 200)
  t.equal((await refresh(app, token)).statusCode, 401)
  const badClient = await postForm(app, '/oauth/revoke', { token }, basic('billing', 'wrong'))
  t.equal(badClient.statusCode, 401)
  t.equal(badClient.json().error, 'invalid_client')
  const noToken = await postForm(app, '/oauth/revoke', {})
  t.equal(noToken.statusCode, 400)
  t.equal(noToken.json().error, 'invalid_request')
})

t.test('errors raised before a route: RFC 6749 bodies under /oauth/ only, server_error for a 5xx', async (t) => {
  t.same(oauthAwareErrorBody('/oauth/token', 500, 'FST_ERR_ASYNC_CONSTRAINT', 'Unexpected error'),
    { error: 'server_error', error_description: 'Unexpected error', statusCode: 500, code: 'OAUTH_SERVER_ERROR' })
  t.same(oauthAwareErrorBody('/oauthish', 404, 'ROUTE_NOT_FOUND', 'Route GET:/oauthish not found'),
    { statusCode: 404, code: 'ROUTE_NOT_FOUND', error: 'Not Found', message: 'Route GET:/oauthish not found' })
  t.same(oauthAwareErrorBody(undefined, 400, 'MALFORMED_REQUEST', 'The request is not valid HTTP'),
    { statusCode: 400, code: 'MALFORMED_REQUEST', error: 'Bad Request', message: 'The request is not valid HTTP' }, 'no request line: ours')
})
