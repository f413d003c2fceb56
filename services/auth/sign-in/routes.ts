// Browser sign-in (OpenID Connect authorization code + PKCE): GET /authorize, the hosted login
// page (GET and POST /sign-in) and single sign-on through the browser session. The code is
// redeemed at POST /oauth/token (routes/oauth.ts); sign-out is end-session.ts.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { InvalidCredentialsError, PasswordChangeRequiredError, TooManyAttemptsError } from '../errors.js'
import type { BrowserSession } from '../store/sign-in.js'
import { USERNAME_MAX_LENGTH } from '../store/users.js'
import { checkAuthorizationRequest, redirectWith, type AuthorizationRequest } from './authorization-request.js'
import type { SignInCookies } from './cookies.js'
import { page, setUpPages } from './page-plugin.js'
import { errorPage, loginPage, STYLESHEET, STYLESHEET_PATH } from './pages.js'

export const AUTHORIZE_PATH = '/authorize'
export const SIGN_IN_PATH = '/sign-in'

export interface SignInRouteOptions {
  issuer: string
  cookies: SignInCookies
}

const ATTEMPT = 'sign-in'
const LoginFormSchema = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 4 * USERNAME_MAX_LENGTH })),
  password: Type.Optional(Type.String({ maxLength: 256 })),
  csrf_token: Type.Optional(Type.String({ maxLength: 128 }))
}, { additionalProperties: false })

export const signInRoutes: FastifyPluginAsyncTypebox<SignInRouteOptions> = async (fastify, { issuer, cookies }) => {
  await setUpPages(fastify, issuer)
  const { signIn, clients } = fastify.store

  const see = (reply: FastifyReply, location: string) => reply.code(303).header('location', location).send()

  /** A new code for `session`, sent to the client's redirect URI with state and iss (RFC 9207). */
  async function sendCode (reply: FastifyReply, request: AuthorizationRequest, session: BrowserSession) {
    const code = await signIn.codes.issue({
      client_id: request.clientId,
      redirect_uri: request.redirectUri,
      code_challenge: request.codeChallenge,
      user_id: session.user_id,
      scope: request.scope,
      nonce: request.nonce ?? null,
      auth_time: session.auth_time,
      browser_session_id: session.id
    })
    return see(reply, redirectWith(request.redirectUri, { code, state: request.state, iss: issuer }))
  }

  fastify.get(STYLESHEET_PATH, { schema: { hide: true } }, async (request, reply) => {
    return reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET)
  })

  fastify.get(AUTHORIZE_PATH, {
    schema: {
      tags: ['sign-in'],
      summary: 'OpenID Connect authorization endpoint: code + PKCE (S256); shows the login page, or answers at once within a browser session',
      querystring: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]))
    }
  }, async (request, reply) => {
    const checked = await checkAuthorizationRequest(request.query, clients.find)
    if (checked.kind === 'page') return page(reply, 400, errorPage('Sign-in cannot start', checked.message, checked.code))
    if (checked.kind === 'redirect') {
      return see(reply, redirectWith(checked.redirectUri, { error: checked.error, error_description: checked.description, state: checked.state, iss: issuer }))
    }
    const { request: authorization } = checked
    const token = cookies.session(request)
    const session = token === undefined ? undefined : await signIn.sessions.use(token)
    const fresh = session !== undefined && (authorization.maxAge === undefined || Math.floor(Date.now() / 1000) - session.auth_time <= authorization.maxAge)
    if (session && fresh && !authorization.forceLogin) return sendCode(reply, authorization, session)
    if (authorization.noPrompt) {
      return see(reply, redirectWith(authorization.redirectUri, {
        error: 'login_required', error_description: 'The user is not signed in', state: authorization.state, iss: issuer
      }))
    }
    const attempt = await signIn.attempts.create({ ...authorization, clientName: checked.client.name })
    cookies.setAttempt(reply, attempt)
    return see(reply, SIGN_IN_PATH)
  })

  /** The authorization request of this browser's sign-in attempt, with its cookie's secret. */
  async function attemptOf (request: FastifyRequest) {
    const token = cookies.attempt(request)
    const saved = token === undefined ? undefined : await signIn.attempts.find(token) as (AuthorizationRequest & { clientName: string }) | undefined
    return saved && { token: token!, authorization: saved }
  }

  const expired = (reply: FastifyReply, statusCode: number, code: string) => page(reply, statusCode, errorPage('This sign-in has expired',
    'This sign-in form was not opened in this browser, or too long ago. Go back to the app and sign in from there.', code))

  fastify.get(SIGN_IN_PATH, { schema: { tags: ['sign-in'], summary: 'The hosted login page (opened by /authorize)' } }, async (request, reply) => {
    const attempt = await attemptOf(request)
    if (!attempt) return expired(reply, 400, 'SIGN_IN_EXPIRED')
    return page(reply, 200, loginPage({ clientName: attempt.authorization.clientName, csrfToken: cookies.csrfToken(attempt.token, ATTEMPT) }))
  })

  fastify.post(SIGN_IN_PATH, {
    schema: {
      tags: ['sign-in'],
      summary: 'The login form\'s answer: a redirect (303) to the app with a code, or the form again with what went wrong',
      consumes: ['application/x-www-form-urlencoded'],
      body: LoginFormSchema
    }
  }, async (request, reply) => {
    const attempt = await attemptOf(request)
    if (!attempt) return expired(reply, 403, 'SIGN_IN_EXPIRED')
    const { username = '', password = '' } = request.body
    if (!cookies.csrfMatches(attempt.token, ATTEMPT, request.body.csrf_token)) {
      return page(reply, 403, errorPage('This form cannot be used', 'This form was not sent from this sign-in page. Go back to the app and sign in from there.', 'SIGN_IN_CSRF'))
    }
    const form = { clientName: attempt.authorization.clientName, csrfToken: cookies.csrfToken(attempt.token, ATTEMPT), username }
    if (username.trim() === '' || password === '') return page(reply, 400, loginPage({ ...form, error: 'Enter your username and your password.' }))
    let userId: string
    try {
      userId = (await fastify.passwordLogin.attempt(request, reply, username, password)).id
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return page(reply, 401, loginPage({ ...form, error: 'That username and password do not match. Check them and try again.' }))
      if (err instanceof TooManyAttemptsError) {
        return page(reply, 429, loginPage({ ...form, error: `Too many sign-in attempts. Wait ${String(reply.getHeader('retry-after'))} seconds, then try again.` }))
      }
      if (err instanceof PasswordChangeRequiredError) {
        return page(reply, 403, loginPage({ ...form, error: 'An administrator set this password for you: change it first (POST /auth/password), then sign in with the new one.' }))
      }
      throw err
    }
    // One attempt signs in once (a second tab posting the same form finds it gone).
    if (!await signIn.attempts.finish(attempt.token)) return expired(reply, 403, 'SIGN_IN_EXPIRED')
    cookies.clearAttempt(reply)
    // A new session, with a new id and secret, at every sign-in: a cookie planted before cannot be the session (no fixation).
    const { session, token } = await signIn.sessions.start(userId)
    cookies.setSession(reply, token)
    return sendCode(reply, attempt.authorization, session)
  })
}
