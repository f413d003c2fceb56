// An example web app that signs its users in at the auth service's hosted login page, with
// @fastify/oauth2 configured by discovery (authorization code + PKCE S256). It shows who is signed
// in (from the userinfo endpoint), calls the resource service with the access token, and signs out
// through the end_session_endpoint. Its own session is an in-memory map behind a signed cookie:
// enough for an example, not for several replicas.
import { randomBytes } from 'node:crypto'
import cookie from '@fastify/cookie'
import formBody from '@fastify/formbody'
import oauth2, { type OAuth2Namespace } from '@fastify/oauth2'
import escapeHtml from 'escape-html'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'

export interface WebAppOptions {
  /** The auth service (its discovery document is read at start). */
  issuer: string
  /** The resource service, called with the signed-in user's access token. */
  resourceUrl: string
  clientId: string
  clientSecret: string
  /** Where this app is reached, e.g. http://127.0.0.1:3005 (its callback is <appUrl>/callback). */
  appUrl: string
  logger?: boolean
}

interface Signed { idToken: string | undefined, accessToken: string, user: { sub: string, preferred_username: string } }

declare module 'fastify' {
  interface FastifyInstance { ssot: OAuth2Namespace }
}

const SESSION_COOKIE = 'web-app-session'

export async function buildWebApp (options: WebAppOptions) {
  const app = Fastify({ logger: options.logger ?? false })
  const sessions = new Map<string, Signed>()
  const appUrl = new URL(options.appUrl)
  await app.register(cookie, { secret: randomBytes(32).toString('base64url') })
  await app.register(formBody)
  await app.register(oauth2, {
    name: 'ssot',
    scope: ['openid', 'profile'],
    credentials: { client: { id: options.clientId, secret: options.clientSecret } },
    startRedirectPath: '/login',
    callbackUri: `${appUrl.origin}/callback`,
    discovery: { issuer: options.issuer },
    pkce: 'S256',
    cookie: { path: '/', secure: appUrl.protocol === 'https:' }
  })

  // The state and PKCE cookies are set on the host the browser started at: stay on one host.
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.host !== appUrl.host) return reply.redirect(`${appUrl.origin}${request.url}`, 303)
  })

  const page = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example web app</title></head><body><h1>Example web app</h1>${body}</body></html>`)
  const signedIn = (request: FastifyRequest) => {
    const raw = request.cookies[SESSION_COOKIE]
    const id = raw === undefined ? undefined : request.unsignCookie(raw)
    return id?.valid && id.value !== null ? { id: id.value, session: sessions.get(id.value) } : undefined
  }

  app.get('/', async (request, reply) => {
    const session = signedIn(request)?.session
    if (!session) return page(reply, '<p id="status">You are not signed in.</p><p><a id="sign-in" href="/login">Sign in</a></p>')
    return page(reply, `<p id="status">Signed in as <strong id="username">${escapeHtml(session.user.preferred_username)}</strong>.</p>
<p><a id="call" href="/resource">Call the resource service</a></p>
<form method="post" action="/logout"><button id="sign-out" type="submit">Sign out</button></form>`)
  })

  app.get('/callback', async (request, reply) => {
    const { token } = await app.ssot.getAccessTokenFromAuthorizationCodeFlow(request, reply)
    const user = await app.ssot.userinfo(token.access_token) as Signed['user']
    const id = randomBytes(32).toString('base64url')
    sessions.set(id, { idToken: token.id_token, accessToken: token.access_token, user })
    reply.setCookie(SESSION_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure: appUrl.protocol === 'https:' })
    return reply.redirect('/', 303)
  })

  app.get('/resource', async (request, reply) => {
    const session = signedIn(request)?.session
    if (!session) return reply.redirect('/', 303)
    const response = await fetch(`${options.resourceUrl}/resource/protected`, { headers: { authorization: `Bearer ${session.accessToken}` } })
    return page(reply, `<p>The resource service answered ${response.status}:</p><pre id="answer">${escapeHtml(await response.text())}</pre><p><a href="/">Back</a></p>`)
  })

  app.post('/logout', async (request, reply) => {
    const current = signedIn(request)
    if (current) sessions.delete(current.id)
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    const endSession = (await discovery(options.issuer)).end_session_endpoint
    const url = new URL(endSession)
    url.searchParams.set('client_id', options.clientId)
    url.searchParams.set('post_logout_redirect_uri', `${appUrl.origin}/`)
    if (current?.session?.idToken) url.searchParams.set('id_token_hint', current.session.idToken)
    return reply.redirect(url.href, 303)
  })

  return app
}

async function discovery (issuer: string): Promise<{ end_session_endpoint: string }> {
  const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`)
  return response.json() as Promise<{ end_session_endpoint: string }>
}
