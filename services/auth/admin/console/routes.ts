// The admin console on the admin listener: signs admins in through the hosted sign-in page as a
// first-party app (authorization code + PKCE, public client `ssot-admin-console`), keeps their
// tokens on this side behind an HttpOnly SameSite=Strict cookie, and turns each form into a call
// of the admin API. CSRF: a per-session token in every form, and Origin checked on every POST.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { html } from '../../sign-in/html.js'
import { AUTHORIZE_PATH } from '../../sign-in/routes.js'
import { CONSOLE_ACTIONS } from './actions.js'
import { CSS, CSS_PATH, JS, JS_PATH } from './assets.js'
import { actionButton, confirmPage, messagePage, nextLink, page, searchForm, table } from './pages.js'
import { createConsoleState, randomToken, type ConsoleSession } from './sessions.js'

export const CONSOLE_CLIENT_ID = 'ssot-admin-console'
export const CONSOLE_SCOPE = 'openid admin:read admin:write'

export interface ConsoleOptions {
  issuer: string
  /** This replica's public listener as this process reaches it (the token endpoint). */
  publicUrl: string
  /** Where browsers reach the console (ADMIN_CONSOLE_URL): its origin, and the redirect URI's base. */
  consoleUrl: string
}

/** The cookie names: `__Host-` over https; on http (development) browsers refuse that prefix, so plain names. */
export function consoleCookieNames (secure: boolean) {
  return secure ? { session: '__Host-ssot-admin', signIn: '__Host-ssot-admin-sign-in' } : { session: 'ssot-admin', signIn: 'ssot-admin-sign-in' }
}

export const consoleRedirectUri = (consoleUrl: string) => `${consoleUrl.replace(/\/+$/, '')}/console/callback`

type Fields = Record<string, string>

const CSP = (issuerOrigin: string) => "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  `form-action 'self' ${issuerOrigin}; frame-ancestors 'none'; base-uri 'none'`

const safeReturn = (path: string | undefined) => path !== undefined && /^\/console\/[\w\-/?=&%.]*$/.test(path) && !path.includes('//') ? path : '/console/users'

const sameText = (a: string, b: string) => {
  const [x, y] = [createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest()]
  return timingSafeEqual(x, y)
}

export async function consoleRoutes (fastify: FastifyInstance, options: ConsoleOptions) {
  const state = createConsoleState()
  const secure = options.consoleUrl.startsWith('https:')
  const names = consoleCookieNames(secure)
  const consoleOrigin = new URL(options.consoleUrl).origin
  const issuerBase = options.issuer.replace(/\/+$/, '')
  const redirectUri = consoleRedirectUri(options.consoleUrl)
  const csp = CSP(new URL(options.issuer).origin)
  const cookieBase = { httpOnly: true, secure, path: '/' } as const

  // Referrer-Policy same-origin, not no-referrer: under no-referrer a browser sends `Origin: null`
  // with the console's own form posts, and the Origin check could not tell them apart.
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('content-security-policy', csp).header('cache-control', 'no-store').header('referrer-policy', 'same-origin')
  })

  const htmlReply = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body)

  /** The signed-in admin's session, or undefined after sending them to sign in. */
  function sessionOf (request: FastifyRequest, reply: FastifyReply): ConsoleSession | undefined {
    const session = state.sessions.get(request.cookies[names.session])
    if (!session) reply.redirect(`/console/login?returnTo=${encodeURIComponent(safeReturn(request.url))}`, 303)
    return session
  }

  /** A call of the admin API as the session's admin, from the browser's address (for the audit trail). */
  async function api (request: FastifyRequest, session: ConsoleSession, method: string, url: string, body?: unknown) {
    const response = await fastify.inject({
      method: method as 'GET',
      url,
      remoteAddress: request.ip,
      headers: { authorization: `Bearer ${session.accessToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { payload: JSON.stringify(body) })
    })
    return { status: response.statusCode, body: response.body === '' ? {} : response.json() as Record<string, any> }
  }

  /** The API's answer for a page; a refusal sends the admin to sign in again, or shows why. */
  async function load (request: FastifyRequest, reply: FastifyReply, session: ConsoleSession, url: string) {
    const answer = await api(request, session, 'GET', url)
    if (answer.status === 200) return answer.body
    if (answer.status === 401) {
      state.sessions.delete(request.cookies[names.session]!)
      await reply.redirect(`/console/login?returnTo=${encodeURIComponent(safeReturn(request.url))}`, 303)
    } else {
      await htmlReply(reply, messagePage('Refused', `${answer.body.message} (${answer.body.code})`), answer.status)
    }
    return undefined
  }

  fastify.get(CSS_PATH, async (request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CSS))
  fastify.get(JS_PATH, async (request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(JS))
  fastify.get('/', async (request, reply) => reply.redirect('/console/users', 303))
  // Browsers ask for it on every page: nothing, rather than a 404 in their console.
  fastify.get('/favicon.ico', async (request, reply) => reply.code(204).send())
  fastify.get('/console', async (request, reply) => reply.redirect('/console/users', 303))

  // Sign-in: to the hosted page with a new state, nonce and PKCE verifier, remembered here.
  fastify.get<{ Querystring: { returnTo?: string, reauth?: string } }>('/console/login', async (request, reply) => {
    const pending = { state: randomToken(), verifier: randomToken(), nonce: randomToken(), returnTo: safeReturn(request.query.returnTo), expiresAt: Date.now() + state.pendingTtl }
    const id = state.pending.add(pending)
    // Lax: the cookie must come back with the hosted page's redirect, a navigation from another site.
    reply.setCookie(names.signIn, id, { ...cookieBase, sameSite: 'lax', maxAge: state.pendingTtl / 1000 })
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: redirectUri,
      scope: CONSOLE_SCOPE,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
      code_challenge_method: 'S256',
      // A destructive action needs a fresh sign-in: the password again, whatever the single sign-on session.
      ...(request.query.reauth !== undefined && { prompt: 'login' })
    })
    return reply.redirect(`${issuerBase}${AUTHORIZE_PATH}?${query.toString()}`, 303)
  })

  fastify.get<{ Querystring: Fields }>('/console/callback', async (request, reply) => {
    const pending = state.pending.take(request.cookies[names.signIn])
    reply.clearCookie(names.signIn, { ...cookieBase, sameSite: 'lax' })
    const { code, state: returnedState, iss, error } = request.query
    if (!pending || returnedState !== pending.state || iss !== options.issuer) {
      return htmlReply(reply, messagePage('Sign-in failed', 'This sign-in was not started here, or it expired.', { href: '/console/login', text: 'Sign in' }), 400)
    }
    if (error !== undefined || code === undefined) {
      return htmlReply(reply, messagePage('Sign-in failed', `The sign-in did not complete (${error ?? 'no code'}).`, { href: '/console/login', text: 'Try again' }), 400)
    }
    const response = await fetch(`${options.publicUrl.replace(/\/+$/, '')}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CONSOLE_CLIENT_ID, code_verifier: pending.verifier })
    })
    const tokens = await response.json() as { access_token?: string }
    if (!response.ok || tokens.access_token === undefined) {
      return htmlReply(reply, messagePage('Sign-in failed', 'The code was refused.', { href: '/console/login', text: 'Try again' }), 400)
    }
    // From our own token endpoint over this process's connection: its claims are the service's own.
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { username: string, exp: number }
    const id = state.sessions.add({ accessToken: tokens.access_token, username: claims.username, csrf: randomToken(), expiresAt: claims.exp * 1000 })
    reply.setCookie(names.session, id, { ...cookieBase, sameSite: 'strict' })
    // A Strict cookie is not sent with a redirect that a navigation from another site started: the
    // page moves on by itself, as a navigation of this origin.
    return htmlReply(reply, messagePage('Signed in', 'Opening the console…', { href: pending.returnTo, text: 'Continue' }, pending.returnTo))
  })

  // Every POST: the session, its CSRF token, and an Origin (or Fetch Metadata) of this console.
  async function checkPost (request: FastifyRequest<{ Body: Fields }>, reply: FastifyReply): Promise<ConsoleSession | undefined> {
    const session = state.sessions.get(request.cookies[names.session])
    const origin = request.headers.origin
    const site = request.headers['sec-fetch-site']
    const token = typeof request.body?._csrf === 'string' ? request.body._csrf : ''
    const originOk = origin !== undefined ? origin === consoleOrigin : site === undefined || site === 'same-origin'
    if (!session || !originOk || !sameText(token, session.csrf)) {
      await htmlReply(reply, messagePage('Refused', 'This form did not come from your console session (CSRF check). Reload the page and try again.'), 403)
      return undefined
    }
    return session
  }

  fastify.post<{ Body: Fields }>('/console/logout', async (request, reply) => {
    if (!await checkPost(request, reply)) return reply
    state.sessions.delete(request.cookies[names.session]!)
    reply.clearCookie(names.session, { ...cookieBase, sameSite: 'strict' })
    return htmlReply(reply, messagePage('Signed out', 'You are signed out of the console.', { href: '/console/login', text: 'Sign in again' }))
  })

  fastify.post<{ Body: Fields, Params: { op: string } }>('/console/action/:op', async (request, reply) => {
    const session = await checkPost(request, reply)
    if (!session) return reply
    const action = CONSOLE_ACTIONS[request.params.op]
    const fields = request.body
    const returnTo = safeReturn(fields.returnTo)
    if (!action) return htmlReply(reply, messagePage('Unknown action', 'No such console action.'), 404)
    if (action.confirm && fields.confirmed !== 'yes') {
      const { _csrf: ignored, ...kept } = fields
      return htmlReply(reply, confirmPage(session, request.params.op, action.confirm(fields), kept, returnTo))
    }
    const answer = await api(request, session, action.method, action.path(fields), action.body?.(fields))
    if (answer.status === 401) {
      session.flash = { kind: 'error', text: answer.body.code === 'ADMIN_REAUTH_REQUIRED' ? 'Sign in again to confirm it is you, then repeat the action.' : 'Your sign-in has ended.' }
      return reply.redirect(`/console/login?reauth=1&returnTo=${encodeURIComponent(returnTo)}`, 303)
    }
    session.flash = answer.status < 300
      ? { kind: 'ok', text: action.done(fields), ...(typeof answer.body.clientSecret === 'string' && { secret: answer.body.clientSecret }) }
      : { kind: 'error', text: `${answer.body.message} (${answer.body.code})` }
    return reply.redirect(returnTo, 303)
  })

  /** A page of the console: its flash message is shown once. */
  function render (reply: FastifyReply, session: ConsoleSession, title: string, section: string, body: ReturnType<typeof html>) {
    const text = page(title, body, session, section)
    delete session.flash
    return htmlReply(reply, text)
  }

  fastify.get<{ Querystring: Fields }>('/console/users', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const { search, after } = request.query
    const query = new URLSearchParams({ limit: '20', ...(search && { search }), ...(after && { after }) })
    const data = await load(request, reply, session, `/api/users?${query.toString()}`)
    if (!data) return reply
    const back = '/console/users'
    return render(reply, session, 'Users', 'users', html`<h1>Users</h1>
${searchForm('/console/users', [['search', 'Username starts with', search]])}
${table(data.items as Array<{ username: string, roles: string[], disabled: boolean, passwordChangeRequired: boolean, createdAt: string }>, [
  ['Username', (user) => html`<a href="/console/users/${encodeURIComponent(user.username)}">${user.username}</a>`],
  ['Roles', (user) => user.roles.join(', ')],
  ['State', (user) => `${user.disabled ? 'disabled' : 'enabled'}${user.passwordChangeRequired ? ', must change password' : ''}`],
  ['Created', (user) => user.createdAt],
  ['', (user) => html`${user.disabled
    ? actionButton(session, 'user-enable', 'Enable', { username: user.username, returnTo: back })
    : actionButton(session, 'user-disable', 'Disable', { username: user.username, returnTo: back }, true)} ${actionButton(session, 'user-delete', 'Delete', { username: user.username, returnTo: back }, true)}`]
])}
${nextLink('/console/users', { search }, data.next)}
<fieldset><legend>New user</legend>
<form method="post" action="/console/action/user-create"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="returnTo" value="${back}">
<label>Username <input type="text" name="username" required autocomplete="off"></label>
<label>Password <input type="password" name="password" required minlength="8" autocomplete="new-password"></label>
<label>Roles <input type="text" name="roles" placeholder="admin, editor"></label>
<label><input type="checkbox" name="temporary" checked> must change it at first sign-in</label>
<button type="submit">Create</button></form></fieldset>`)
  })

  fastify.get<{ Params: { username: string } }>('/console/users/:username', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const name = request.params.username
    const here = `/console/users/${encodeURIComponent(name)}`
    const data = await load(request, reply, session, `/api/users/${encodeURIComponent(name)}/sessions`)
    if (!data) return reply
    const users = await api(request, session, 'GET', `/api/users?search=${encodeURIComponent(name)}&limit=1`)
    // The first name from the prefix is the name itself (the sessions answer says the user exists).
    const user = (users.body.items as Array<{ username: string, roles: string[] }>)[0]!
    const fields = { username: name, returnTo: here }
    return render(reply, session, name, 'users', html`<h1>${name}</h1>
<p>${actionButton(session, 'user-unlock', 'Clear login throttling', fields)} ${actionButton(session, 'user-sessions-revoke', 'End every session', fields, true)}</p>
<h2>Sessions</h2>
${table(data.items as Array<{ id: string, clientId: string, scope: string, createdAt: string, expiresAt: string }>, [
  ['Client', (row) => row.clientId], ['Scope', (row) => row.scope], ['Started', (row) => row.createdAt], ['Ends', (row) => row.expiresAt],
  ['', (row) => actionButton(session, 'user-session-revoke', 'End', { ...fields, sessionId: row.id })]
])}
<fieldset><legend>Roles</legend><form method="post" action="/console/action/user-roles"><input type="hidden" name="_csrf" value="${session.csrf}">
<input type="hidden" name="username" value="${name}"><input type="hidden" name="returnTo" value="${here}">
<input type="text" name="roles" value="${user.roles.join(', ')}"> <button type="submit">Save roles</button></form></fieldset>
<fieldset><legend>New password</legend><form method="post" action="/console/action/user-password"><input type="hidden" name="_csrf" value="${session.csrf}">
<input type="hidden" name="username" value="${name}"><input type="hidden" name="returnTo" value="${here}">
<input type="password" name="password" required minlength="8" autocomplete="new-password">
<label><input type="checkbox" name="temporary" checked> temporary: must be changed at the next sign-in</label> <button type="submit" class="danger">Set password</button></form></fieldset>`)
  })

  fastify.get<{ Querystring: Fields }>('/console/clients', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const { search, after } = request.query
    const query = new URLSearchParams({ limit: '20', ...(search && { search }), ...(after && { after }) })
    const data = await load(request, reply, session, `/api/clients?${query.toString()}`)
    if (!data) return reply
    const back = '/console/clients'
    return render(reply, session, 'Clients', 'clients', html`<h1>Clients</h1>
${searchForm('/console/clients', [['search', 'client_id starts with', search]])}
${table(data.items as Array<{ clientId: string, scopes: string[], audiences: string[], redirectUris: string[], public: boolean, disabled: boolean }>, [
  ['client_id', (row) => row.clientId], ['Scopes', (row) => row.scopes.join(' ')], ['Audiences', (row) => row.audiences.join(' ')],
  ['Redirect URIs', (row) => row.redirectUris.join(' ')], ['Type', (row) => `${row.public ? 'public' : 'confidential'}${row.disabled ? ', disabled' : ''}`],
  ['', (row) => html`${row.disabled
    ? actionButton(session, 'client-enable', 'Enable', { clientId: row.clientId, returnTo: back })
    : actionButton(session, 'client-disable', 'Disable', { clientId: row.clientId, returnTo: back }, true)}
${row.public ? '' : actionButton(session, 'client-rotate', 'Rotate secret', { clientId: row.clientId, returnTo: back }, true)} ${actionButton(session, 'client-delete', 'Delete', { clientId: row.clientId, returnTo: back }, true)}`]
])}
${nextLink('/console/clients', { search }, data.next)}
<fieldset><legend>New client</legend><form method="post" action="/console/action/client-create"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="returnTo" value="${back}">
<label>client_id <input type="text" name="clientId" required></label> <label>Scopes <input type="text" name="scopes" required placeholder="orders:read"></label>
<label>Audiences <input type="text" name="audiences"></label> <label>Redirect URIs <input type="text" name="redirectUris"></label>
<label><input type="checkbox" name="public"> public (PKCE, no secret)</label> <button type="submit">Create</button></form></fieldset>`)
  })

  fastify.get('/console/keys', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const data = await load(request, reply, session, '/api/keys')
    if (!data) return reply
    return render(reply, session, 'Keys', 'keys', html`<h1>Signing keys</h1>
${table(data.items as Array<{ kid: string, state: string, createdAt: string, activatedAt?: string, retiredAt?: string }>, [
  ['kid', (row) => html`<code>${row.kid}</code>`], ['State', (row) => row.state], ['Created', (row) => row.createdAt],
  ['Activated', (row) => row.activatedAt ?? ''], ['Retired', (row) => row.retiredAt ?? ''],
  ['', (row) => row.state === 'retired' ? actionButton(session, 'key-retire', 'Remove now', { kid: row.kid, returnTo: '/console/keys' }, true) : '']
])}
<form method="post" action="/console/action/keys-rotate"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="returnTo" value="/console/keys">
<label><input type="checkbox" name="force"> even if the next key is young</label> <button type="submit" class="danger">Rotate now</button></form>`)
  })

  fastify.get('/console/revocations', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const data = await load(request, reply, session, '/api/revocations?limit=100')
    if (!data) return reply
    return render(reply, session, 'Revocations', 'revocations', html`<h1>Recent revocations</h1><p class="muted">Digests of revoked sessions and tokens, as the revocation feed publishes them.</p>
${table(data.items as Array<{ id: number, hash: string, createdAt: string, expiresAt: string }>, [
  ['Event', (row) => String(row.id)], ['Digest', (row) => html`<code>${row.hash}</code>`], ['At', (row) => row.createdAt], ['Kept until', (row) => row.expiresAt]
])}`)
  })

  fastify.get<{ Querystring: Fields }>('/console/audit', async (request, reply) => {
    const session = sessionOf(request, reply)
    if (!session) return reply
    const { actor, target, action, before } = request.query
    const filters = { ...(actor && { actor }), ...(target && { target }), ...(action && { action }) }
    const query = new URLSearchParams({ limit: '50', ...filters, ...(before && { before }) })
    const data = await load(request, reply, session, `/api/audit?${query.toString()}`)
    if (!data) return reply
    return render(reply, session, 'Audit', 'audit', html`<h1>Audit trail</h1>
${searchForm('/console/audit', [['actor', 'Actor', actor], ['target', 'Target', target], ['action', 'Action', action]])}
${table(data.items as Array<{ at: string, actor: string, action: string, target: string, ip: string, outcome: string, detail: Record<string, unknown> }>, [
  ['Time', (row) => row.at], ['Actor', (row) => row.actor], ['Action', (row) => row.action], ['Target', (row) => row.target],
  ['Outcome', (row) => row.outcome], ['Address', (row) => row.ip], ['Detail', (row) => Object.keys(row.detail).length > 0 ? JSON.stringify(row.detail) : '']
])}
${nextLink('/console/audit', filters, data.next)}`)
  })
}
