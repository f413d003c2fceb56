// OpenID Connect RP-Initiated Logout 1.0: GET or POST /end-session. With a valid id_token_hint the
// browser session it names ends at once; without one, the user confirms on a CSRF-protected page
// (a link from anywhere must not sign people out). Ending a browser session revokes every refresh
// family it opened, and their access tokens through the revocation feed. The browser goes back to
// post_logout_redirect_uri only when it is exactly one of the identified client's.
import { createPublicKey, verify } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { KeyRing } from '../../../plugins/issuer/key-ring.js'
import type { Client } from '../store/clients.js'
import { redirectWith } from './authorization-request.js'
import type { SignInCookies } from './cookies.js'
import { END_SESSION_PATH } from './discovery.js'
import { errorPage, signedOutPage, signOutPage } from './pages.js'
import { page, setUpPages } from './page-plugin.js'

export interface EndSessionOptions {
  issuer: string
  cookies: SignInCookies
}

const CONFIRM = 'end-session'

const ParamsSchema = Type.Object({
  id_token_hint: Type.Optional(Type.String({ maxLength: 8192 })),
  post_logout_redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 1024 })),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  logout_hint: Type.Optional(Type.String({ maxLength: 1024 })),
  ui_locales: Type.Optional(Type.String({ maxLength: 256 })),
  csrf_token: Type.Optional(Type.String({ maxLength: 128 })),
  confirm: Type.Optional(Type.String({ maxLength: 16 }))
}, { additionalProperties: false })
type Params = typeof ParamsSchema.static

interface Hint { sub: string, aud: string, sid?: string }

/**
 * The claims of an ID token this issuer signed with a key it still publishes; expired ones count
 * (OpenID RP-Initiated Logout §2: the hint may have expired). Undefined for anything else.
 */
export function idTokenHint (token: string, keyRing: KeyRing, issuer: string): Hint | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg?: string, kid?: string, typ?: string }
    const key = keyRing.keys().find((candidate) => candidate.kid === header.kid)
    if (header.alg !== 'RS256' || header.typ !== 'JWT' || !key) return undefined
    const valid = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey({ key: key.publicJwk as never, format: 'jwk' }), Buffer.from(parts[2]!, 'base64url'))
    if (!valid) return undefined
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>
    if (claims.iss !== issuer || typeof claims.sub !== 'string' || typeof claims.aud !== 'string') return undefined
    return { sub: claims.sub, aud: claims.aud, ...(typeof claims.sid === 'string' && { sid: claims.sid }) }
  } catch {
    return undefined
  }
}

export const endSessionRoutes: FastifyPluginAsyncTypebox<EndSessionOptions> = async (fastify, { issuer, cookies }) => {
  await setUpPages(fastify, issuer)
  const { signIn, clients } = fastify.store

  const refuse = (reply: FastifyReply, code: string, message: string) => page(reply, 400, errorPage('Sign-out cannot go on', message, code))

  /** Ends these browser sessions (this browser's cookie goes with its own), then goes back or says it is done. */
  async function finish (reply: FastifyReply, sessionIds: string[], current: string | undefined, back: string | undefined, state: string | undefined) {
    for (const id of new Set(sessionIds)) await signIn.sessions.end(id)
    if (current === undefined || sessionIds.includes(current)) cookies.clearSession(reply)
    if (back !== undefined) return reply.code(303).header('location', redirectWith(back, { state })).send()
    return page(reply, 200, signedOutPage())
  }

  async function endSession (request: FastifyRequest, reply: FastifyReply, params: Params, confirmed: boolean) {
    const hint = params.id_token_hint === undefined ? undefined : idTokenHint(params.id_token_hint, fastify.issuer.keyRing, issuer)
    if (params.id_token_hint !== undefined && !hint) return refuse(reply, 'SIGN_OUT_INVALID_ID_TOKEN_HINT', 'The app sent a sign-out request this service cannot check (its id_token_hint is not valid).')
    if (hint && params.client_id !== undefined && params.client_id !== hint.aud) return refuse(reply, 'SIGN_OUT_CLIENT_MISMATCH', 'The app sent a sign-out request for another app.')
    const clientId = hint?.aud ?? params.client_id
    let client: Client | undefined
    if (clientId !== undefined) {
      client = await clients.find(clientId)
      if (!client) return refuse(reply, 'SIGN_OUT_INVALID_CLIENT', 'The app that sent you here is not registered.')
    }
    const back = params.post_logout_redirect_uri
    if (back !== undefined && (!client || !client.post_logout_redirect_uris.split(' ').includes(back))) {
      return refuse(reply, 'SIGN_OUT_INVALID_REDIRECT_URI', 'The app that sent you here asked to send you back to an address it has not registered.')
    }
    const token = cookies.session(request)
    const current = token === undefined ? undefined : await signIn.sessions.use(token)
    if (hint) {
      // The hint names the session; this browser's own is ended too when it is the same user's.
      const named = hint.sid === undefined ? undefined : await signIn.sessions.byId(hint.sid)
      const ids = [named?.user_id === hint.sub ? named.id : undefined, current?.user_id === hint.sub ? current.id : undefined]
      return finish(reply, ids.filter((id): id is string => id !== undefined), current?.id, back, params.state)
    }
    if (!current) return finish(reply, [], undefined, back, params.state)
    if (confirmed && cookies.csrfMatches(token!, CONFIRM, params.csrf_token)) return finish(reply, [current.id], current.id, back, params.state)
    if (confirmed) return page(reply, 403, errorPage('This form cannot be used', 'This sign-out form was not sent from this page. Sign out again from the app.', 'SIGN_OUT_CSRF'))
    return page(reply, 200, signOutPage(cookies.csrfToken(token!, CONFIRM), {
      post_logout_redirect_uri: back, state: params.state, client_id: clientId
    }, client?.name))
  }

  const summary = 'OpenID Connect RP-Initiated Logout: ends the browser session and the sessions it opened'
  fastify.get(END_SESSION_PATH, { schema: { tags: ['sign-in'], summary, querystring: ParamsSchema } }, (request, reply) =>
    endSession(request, reply, request.query, false))
  fastify.post(END_SESSION_PATH, {
    schema: { tags: ['sign-in'], summary, consumes: ['application/x-www-form-urlencoded'], body: ParamsSchema }
  }, (request, reply) => endSession(request, reply, request.body, request.body.confirm === 'yes'))
}
