// HTTP statuses as HTTP means them, at both services over real HTTP: 405 with Allow for a known
// path and another method, 413 and 415 for a body too large or of a type no route takes (text/plain
// included), and under /oauth/ the same statuses with RFC 6749 bodies.
import t from 'tap'
import { startAuth, startResource } from '../helper.js'

async function send (url: string, method: string, body?: string, contentType?: string) {
  const response = await fetch(url, { method, ...(body !== undefined && { body }), ...(contentType && { headers: { 'content-type': contentType } }) })
  return { status: response.status, allow: response.headers.get('allow'), body: await response.json() as Record<string, unknown> }
}

t.test('statuses', async (t) => {
  const auth = await startAuth(t)
  const resource = await startResource(t, auth.url)

  t.test('a known path with another method: 405 and Allow; an unknown path: 404', async (t) => {
    const cases = [
      [`${auth.url}/health`, 'DELETE', 'GET, HEAD'],
      [`${auth.url}/auth/login`, 'GET', 'POST'],
      [`${auth.url}/.well-known/jwks.json`, 'POST', 'GET, HEAD'],
      [`${resource.url}/resource/protected`, 'POST', 'GET, HEAD'],
      [`${resource.url}/health`, 'PUT', 'GET, HEAD']
    ] as const
    for (const [url, method, allow] of cases) {
      const answer = await send(url, method)
      t.match(answer, { status: 405, allow, body: { statusCode: 405, code: 'METHOD_NOT_ALLOWED', error: 'Method Not Allowed' } }, `${method} ${url}`)
      t.equal(answer.body.message, `Method ${method} is not allowed on ${new URL(url).pathname}; allowed: ${allow}`)
    }
    t.same(await send(`${auth.url}/oauth/token?client_secret=s`, 'GET'), {
      status: 405,
      allow: 'POST',
      body: { error: 'invalid_request', error_description: 'Method GET is not allowed on /oauth/token; allowed: POST', statusCode: 405, code: 'OAUTH_INVALID_REQUEST' }
    }, 'under /oauth/, an RFC 6749 body')
    t.match(await send(`${auth.url}/nowhere`, 'DELETE'), { status: 404, allow: null, body: { code: 'ROUTE_NOT_FOUND' } })
  })

  t.test('a body too large: 413, under /oauth/ too', async (t) => {
    const big = JSON.stringify({ username: 'a', password: 'p'.repeat(1_100_000) })
    t.match(await send(`${auth.url}/auth/login`, 'POST', big, 'application/json'), { status: 413, body: { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' } })
    t.match(await send(`${auth.url}/oauth/token`, 'POST', `grant_type=client_credentials&pad=${'x'.repeat(1_100_000)}`, 'application/x-www-form-urlencoded'),
      { status: 413, body: { error: 'invalid_request', statusCode: 413, code: 'OAUTH_INVALID_REQUEST' } })
  })

  t.test('a body of a type no route takes: 415 (text/plain to a JSON route too), under /oauth/ too', async (t) => {
    for (const type of ['text/plain', 'text/xml', 'application/xml']) {
      t.match(await send(`${auth.url}/auth/login`, 'POST', '{"username":"a","password":"b"}', type),
        { status: 415, body: { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' } }, `${type} to /auth/login`)
      t.match(await send(`${auth.url}/oauth/token`, 'POST', 'grant_type=client_credentials', type),
        { status: 415, body: { error: 'invalid_request', statusCode: 415, code: 'OAUTH_INVALID_REQUEST' } }, `${type} to /oauth/token`)
    }
    t.match(await send(`${auth.url}/auth/refresh`, 'POST', 'x', 'text/plain'), { status: 415 })
  })
})
