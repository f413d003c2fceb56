// What a user and a client see for every request browser sign-in refuses, and that nothing was
// issued: error pages (never a redirect) for a bad client or redirect URI, RFC 6749 §4.1.2.1
// errors back to the client for the rest, invalid_grant for a code used wrongly.
import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import {
  authorizeUrl, browser, pkce, signInThroughForm, SPA_REDIRECT, startSignIn, tokenRequest, webParams, WEB_REDIRECT, type SignInApp
} from './helpers.js'

const codeOf = (location: string | undefined) => new URL(location!).searchParams.get('code')!
const noCodes = async (app: SignInApp) => (await app.store.db.selectFrom('authorization_codes').select('code_hash').execute()).length === 0

t.test('a bad client or redirect_uri: an error page of the auth service, no redirect', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['unknown client', webParams(challenge, { client_id: 'nobody' }), 'SIGN_IN_INVALID_CLIENT'],
    ['no client_id', webParams(challenge, { client_id: undefined }), 'SIGN_IN_INVALID_CLIENT'],
    ['unregistered redirect_uri', webParams(challenge, { redirect_uri: 'https://evil.example/callback' }), 'SIGN_IN_INVALID_REDIRECT_URI'],
    ['a trailing slash', webParams(challenge, { redirect_uri: `${WEB_REDIRECT}/` }), 'SIGN_IN_INVALID_REDIRECT_URI'],
    ['an extra query', webParams(challenge, { redirect_uri: `${WEB_REDIRECT}?next=/admin` }), 'SIGN_IN_INVALID_REDIRECT_URI'],
    ['no redirect_uri', webParams(challenge, { redirect_uri: undefined }), 'SIGN_IN_INVALID_REDIRECT_URI'],
    ['markup in client_id', webParams(challenge, { client_id: '<script>alert(1)</script>' }), 'SIGN_IN_INVALID_CLIENT']
  ]
  for (const [name, params, code] of cases) {
    const page = await b.get(authorizeUrl(app.url, params))
    t.equal(page.status, 400, name)
    t.equal(page.location, undefined, `${name}: no redirect`)
    t.match(page.headers.get('content-type'), /text\/html/)
    t.match(page.text, code, `${name}: ${code}`)
    t.notMatch(page.text, /<script>/, `${name}: nothing echoed unescaped`)
  }
  const repeated = await b.get(`${authorizeUrl(app.url, webParams(challenge))}&client_id=spa`)
  t.equal(repeated.status, 400, 'a repeated client_id')
  const disabled = await app.store.clientAdmin.disable('web')
  t.equal(disabled, 'done')
  const page = await b.get(authorizeUrl(app.url, webParams(challenge)))
  t.match(page.text, 'SIGN_IN_INVALID_CLIENT', 'a disabled client')
  t.ok(await noCodes(app))
})

t.test('other bad requests go back to the client with an error, state and iss', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const { challenge } = pkce()
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['response_type=token', webParams(challenge, { response_type: 'token' }), 'unsupported_response_type'],
    ['no code_challenge', webParams(challenge, { code_challenge: undefined }), 'invalid_request'],
    ['plain', webParams(challenge, { code_challenge_method: 'plain' }), 'invalid_request'],
    ['no method', webParams(challenge, { code_challenge_method: undefined }), 'invalid_request'],
    ['a short challenge', webParams('abc'), 'invalid_request'],
    ['a scope not the client\'s', webParams(challenge, { scope: 'openid admin' }), 'invalid_scope'],
    ['no scope', webParams(challenge, { scope: undefined }), 'invalid_scope'],
    ['prompt=none with login', webParams(challenge, { prompt: 'none login' }), 'invalid_request'],
    ['an unknown prompt', webParams(challenge, { prompt: 'dance' }), 'invalid_request'],
    ['a bad max_age', webParams(challenge, { max_age: '-1' }), 'invalid_request'],
    ['a long nonce', webParams(challenge, { nonce: 'n'.repeat(300) }), 'invalid_request'],
    ['response_mode=fragment', webParams(challenge, { response_mode: 'fragment' }), 'invalid_request'],
    ['a request object', webParams(challenge, { request: 'eyJ' }), 'request_not_supported'],
    ['request_uri', webParams(challenge, { request_uri: 'https://x' }), 'request_uri_not_supported'],
    ['a long state', webParams(challenge, { state: 's'.repeat(2000) }), 'invalid_request']
  ]
  for (const [name, params, error] of cases) {
    const answer = await b.get(authorizeUrl(app.url, params))
    t.equal(answer.status, 303, name)
    const url = new URL(answer.location!)
    t.equal(`${url.origin}${url.pathname}`, WEB_REDIRECT, `${name}: back to the client`)
    t.equal(url.searchParams.get('error'), error, `${name}: ${error}`)
    t.equal(url.searchParams.get('iss'), app.url)
    t.equal(url.searchParams.get('state'), name === 'a long state' ? null : 'st-1', `${name}: state`)
  }
  const repeated = await b.get(`${authorizeUrl(app.url, webParams(challenge))}&scope=openid`)
  t.equal(new URL(repeated.location!).searchParams.get('error'), 'invalid_request', 'a repeated parameter')
  const markup = await b.get(authorizeUrl(app.url, webParams(challenge, { state: '"><script>x</script>', response_type: 'token' })))
  t.equal(new URL(markup.location!).searchParams.get('state'), '"><script>x</script>', 'state goes back as data, URL-encoded')
  t.match(markup.location, /state=%22%3E%3Cscript%3Ex%3C%2Fscript%3E/)
  t.ok(await noCodes(app))
})

t.test('a code is redeemed once, by its client, at its redirect_uri, with its verifier, within 60 s', async (t) => {
  const app = await startSignIn(t)
  const b = browser()
  const redeem = (code: string, verifier: string, extra: Record<string, string | undefined> = {}, basic: [string, string] | null = ['web', app.webSecret]) =>
    tokenRequest(app.url, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: verifier, ...extra }, basic ?? undefined)
  const newCode = async () => {
    const { verifier, challenge } = pkce()
    const done = await signInThroughForm(app, b, webParams(challenge, { prompt: 'login' }))
    return { code: codeOf(done.location), verifier }
  }
  const refused = (t: Test, answer: Awaited<ReturnType<typeof redeem>>, name: string, error = 'invalid_grant') => {
    t.equal(answer.status, error === 'invalid_client' ? 401 : 400, name)
    t.equal(answer.body.error, error, name)
    t.notOk(answer.body.access_token, `${name}: nothing issued`)
  }

  t.test('a wrong verifier, or none', async (t) => {
    const { code } = await newCode()
    refused(t, await redeem(code, pkce().verifier), 'wrong verifier')
    const second = await newCode()
    refused(t, await redeem(second.code, ''), 'no verifier')
    const third = await newCode()
    refused(t, await redeem(third.code, 'short'), 'a verifier too short')
  })
  t.test('another client, another redirect_uri', async (t) => {
    const { code, verifier } = await newCode()
    refused(t, await redeem(code, verifier, { client_id: 'spa', redirect_uri: SPA_REDIRECT }, null), 'redeemed by the public client')
    const second = await newCode()
    refused(t, await redeem(second.code, second.verifier, { redirect_uri: `${WEB_REDIRECT}/` }), 'another redirect_uri')
    const third = await newCode()
    refused(t, await redeem(third.code, third.verifier, { redirect_uri: undefined }), 'no redirect_uri')
    refused(t, await redeem(third.code, third.verifier, {}, ['web', 'wrong secret']), 'a wrong secret', 'invalid_client')
    refused(t, await redeem(third.code, third.verifier, { client_id: 'nobody' }, null), 'an unknown public client', 'invalid_client')
    refused(t, await redeem(third.code, third.verifier, {}, null), 'no client at all', 'invalid_client')
    refused(t, await tokenRequest(app.url, { grant_type: 'authorization_code', client_id: 'spa' }), 'no code', 'invalid_request')
  })
  t.test('expired', async (t) => {
    const { code, verifier } = await newCode()
    await app.store.db.updateTable('authorization_codes').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute()
    refused(t, await redeem(code, verifier), 'a code past its 60 s')
    refused(t, await redeem('x'.repeat(43), verifier), 'an unknown code')
  })
  t.test('reused: invalid_grant, and what the first redemption issued is revoked', async (t) => {
    const { code, verifier } = await newCode()
    const first = await redeem(code, verifier)
    t.equal(first.status, 200)
    const sid = decodeJwt(first.body.access_token!).sid as string
    refused(t, await redeem(code, verifier), 'the second redemption')
    const family = await app.store.db.selectFrom('refresh_families').select('revoked_at').where('id', '=', sid).executeTakeFirstOrThrow()
    t.ok(family.revoked_at, 'the session the code opened is revoked')
    t.equal((await app.store.revocations.newest()) > 0, true, 'published on the revocation feed')
    const refresh = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, ['web', app.webSecret])
    t.equal(refresh.body.error, 'invalid_grant', 'its refresh token no longer works')
    const info = await fetch(`${app.url}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } })
    t.equal(info.status, 401, 'its access token is refused at userinfo (through the feed)')
  })
  t.test('client_secret_post works as well as Basic; a public client cannot use client_credentials', async (t) => {
    const { code, verifier } = await newCode()
    const post = await redeem(code, verifier, { client_id: 'web', client_secret: app.webSecret }, null)
    t.equal(post.status, 200)
    const spa = await tokenRequest(app.url, { grant_type: 'client_credentials', client_id: 'spa' })
    t.equal(spa.body.error, 'unauthorized_client')
  })
})

t.test('end-session: hint, confirmation, CSRF, exact post_logout_redirect_uri; the tokens the session opened are revoked', async (t) => {
  const app = await startSignIn(t)
  const signedIn = async (b = browser()) => {
    const { verifier, challenge } = pkce()
    const done = await signInThroughForm(app, b, webParams(challenge))
    const tokens = await tokenRequest(app.url, { grant_type: 'authorization_code', code: codeOf(done.location), redirect_uri: WEB_REDIRECT, code_verifier: verifier }, ['web', app.webSecret])
    return { b, tokens: tokens.body }
  }
  const userinfo = async (token: string) => (await fetch(`${app.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status
  const endUrl = (params: Record<string, string>) => `${app.url}/end-session?${new URLSearchParams(params).toString()}`

  t.test('with a valid id_token_hint: ended at once, back to the registered URI with state', async (t) => {
    const { b, tokens } = await signedIn()
    t.equal(await userinfo(tokens.access_token!), 200)
    const end = await b.get(endUrl({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://web.example/', state: 'bye' }))
    t.equal(end.status, 303)
    t.equal(end.location, 'https://web.example/?state=bye')
    t.notOk(b.jar.has('ssot-session'), 'the cookie is cleared')
    const deadline = Date.now() + 1000
    let status = 200
    while (status === 200 && Date.now() < deadline) status = await userinfo(tokens.access_token!)
    t.equal(status, 401, 'its access token is refused within 1 s')
    const refresh = await tokenRequest(app.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, ['web', app.webSecret])
    t.equal(refresh.body.error, 'invalid_grant', 'its refresh token no longer works')
    const { challenge } = pkce()
    const again = await b.get(authorizeUrl(app.url, webParams(challenge)))
    t.equal(again.location, '/sign-in', 'no single sign-on any more')
  })
  t.test('without a hint: a confirmation page with a CSRF token', async (t) => {
    const { b, tokens } = await signedIn()
    const confirm = await b.get(endUrl({ client_id: 'web', post_logout_redirect_uri: 'https://web.example/', state: '<b>' }))
    t.equal(confirm.status, 200)
    t.match(confirm.text, /<form method="post" action="\/end-session">/)
    t.match(confirm.text, /value="&lt;b&gt;"/, 'state escaped')
    const fields = Object.fromEntries([...confirm.text.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>')]))
    const forged = await b.post(`${app.url}/end-session`, { ...fields, csrf_token: 'x'.repeat(43), confirm: 'yes' })
    t.equal(forged.status, 403)
    t.match(forged.text, /SIGN_OUT_CSRF/)
    t.equal(await userinfo(tokens.access_token!), 200, 'nothing ended')
    const done = await b.post(`${app.url}/end-session`, { ...fields, confirm: 'yes' })
    t.equal(done.status, 303)
    t.equal(done.location, 'https://web.example/?state=%3Cb%3E')
    const nothingLeft = await b.get(endUrl({}))
    t.equal(nothingLeft.status, 200)
    t.match(nothingLeft.text, /You are signed out/)
  })
  t.test('refusals: an unregistered post_logout_redirect_uri, a bad hint, another client', async (t) => {
    const { b, tokens } = await signedIn()
    const cases: Array<[Record<string, string>, string]> = [
      [{ id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' }, 'SIGN_OUT_INVALID_REDIRECT_URI'],
      [{ post_logout_redirect_uri: 'https://web.example/' }, 'SIGN_OUT_INVALID_REDIRECT_URI'],
      [{ client_id: 'spa', post_logout_redirect_uri: 'https://web.example/' }, 'SIGN_OUT_INVALID_REDIRECT_URI'],
      [{ id_token_hint: `${tokens.id_token!}x` }, 'SIGN_OUT_INVALID_ID_TOKEN_HINT'],
      [{ id_token_hint: tokens.access_token! }, 'SIGN_OUT_INVALID_ID_TOKEN_HINT'],
      [{ id_token_hint: 'a.b' }, 'SIGN_OUT_INVALID_ID_TOKEN_HINT'],
      [{ id_token_hint: 'a.b.c' }, 'SIGN_OUT_INVALID_ID_TOKEN_HINT'],
      [{ id_token_hint: tokens.id_token!, client_id: 'spa' }, 'SIGN_OUT_CLIENT_MISMATCH'],
      [{ client_id: 'nobody' }, 'SIGN_OUT_INVALID_CLIENT']
    ]
    for (const [params, code] of cases) {
      const page = await b.get(endUrl(params))
      t.equal(page.status, 400, code)
      t.equal(page.location, undefined)
      t.match(page.text, code)
    }
    t.equal(await userinfo(tokens.access_token!), 200, 'nothing ended')
    const bad = await b.get(`${endUrl({})}&state=a&state=b`)
    t.equal(bad.status, 400, 'a repeated parameter')
  })
})
