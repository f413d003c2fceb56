// POST /oauth/token (client_credentials, refresh_token) and POST /oauth/revoke (RFC 7009), with
// RFC 6749 §5.2 error bodies. Form bodies (the standard) and JSON are both accepted here only.
import formBody from '@fastify/formbody'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { auditSessionEnd, recordAuthEvent } from '../audit-trail.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { STORE_RETRY_AFTER_SECONDS } from '../store/errors.js'
import type { Client } from '../store/clients.js'
import type { Grants } from '../grants.js'
import { looksLikeAccessToken, type AccessTokenRevoker } from '../access-token-revocation.js'
import { TokenResponseSchema } from '../schemas.js'
import { oauthErrorBody } from './oauth-error-body.js'

const OAuthErrorSchema = Type.Object({
  error: Type.String({ description: 'RFC 6749 §5.2 error code' }),
  error_description: Type.String(),
  statusCode: Type.Integer(),
  code: Type.String({ description: 'The same error as a stable UPPER_SNAKE code' })
}, { description: 'An OAuth 2.0 error (RFC 6749 §5.2)' })

// Unknown parameters are ignored, as RFC 6749 §3.2 requires.
const TokenBodySchema = Type.Object({
  grant_type: Type.String({ maxLength: 64 }),
  scope: Type.Optional(Type.String({ maxLength: 1024 })),
  audience: Type.Optional(Type.String({ maxLength: 256 })),
  refresh_token: Type.Optional(Type.String({ maxLength: 512 })),
  code: Type.Optional(Type.String({ maxLength: 512 })),
  redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  code_verifier: Type.Optional(Type.String({ maxLength: 256 })),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256 }))
})
const RevokeBodySchema = Type.Object({
  token: Type.String({ maxLength: 4096 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256 }))
})

/** The auth service's own errors a token request can meet, as RFC 6749 §5.2 (RFC 9449 §5.2, §8) error codes. */
const OAUTH_CODES: Record<string, string> = { AUTH_INVALID_DPOP_PROOF: 'invalid_dpop_proof', AUTH_USE_DPOP_NONCE: 'use_dpop_nonce' }

/** An RFC 6749 §5.2 error: `oauthCode` is its `error` member; 401 for invalid_client, 400 otherwise. */
export class OAuthError extends Error {
  constructor (readonly oauthCode: string, description: string, readonly statusCode = 400) {
    super(description)
  }
}

function sendOAuthError (reply: FastifyReply, error: string, description: string, statusCode: number) {
  if (error === 'invalid_client') reply.header('www-authenticate', 'Basic realm="oauth"')
  return reply.code(statusCode).header('cache-control', 'no-store').send(oauthErrorBody(error, description, statusCode))
}

function oauthErrorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof OAuthError) return sendOAuthError(reply, err.oauthCode, err.message, err.statusCode)
  const dpopCode = OAUTH_CODES[err.code]
  if (dpopCode !== undefined) return sendOAuthError(reply, dpopCode, err.message.slice(err.message.indexOf(': ') + 2), err.statusCode!)
  // A bad body keeps its status (413 too large, 415 not form or JSON), with the RFC 6749 body.
  if (err.statusCode !== undefined && err.statusCode < 500) return sendOAuthError(reply, 'invalid_request', err.message, err.statusCode)
  // The store unreachable, or load shedding (which has set its own Retry-After).
  if (err.statusCode === 503) {
    if (!reply.hasHeader('retry-after')) reply.header('retry-after', STORE_RETRY_AFTER_SECONDS)
    return sendOAuthError(reply, 'temporarily_unavailable', err.message, 503)
  }
  request.log.error({ err }, 'unexpected error')
  return sendOAuthError(reply, 'server_error', 'Something went wrong on our side', 500)
}

/** client_id/secret from HTTP Basic (RFC 6749 §2.3.1, form-encoded inside) or from the body. */
function presentedClient (request: FastifyRequest, body: { client_id?: string, client_secret?: string }) {
  const header = request.headers.authorization
  const basic = header !== undefined && /^basic /i.test(header)
  if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not two')
  }
  if (basic) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401)
    const unescape = (text: string) => { try { return decodeURIComponent(text.replace(/\+/g, ' ')) } catch { return text } }
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) }
  }
  if (body.client_id === undefined && body.client_secret === undefined) return undefined
  return { id: body.client_id ?? '', secret: body.client_secret ?? '' }
}

export const oauthRoutes: FastifyPluginAsyncTypebox<{ grants: Grants, revokeAccessToken: AccessTokenRevoker }> = async (fastify, { grants, revokeAccessToken }) => {
  await fastify.register(formBody)
  fastify.setErrorHandler(oauthErrorHandler)

  /**
   * The authenticated client, or a public browser client named by its client_id alone (PKCE
   * proves it); undefined for the first-party login client: no credentials, or its id alone.
   */
  async function authenticateClient (request: FastifyRequest, body: { client_id?: string, client_secret?: string }): Promise<Client | undefined> {
    const presented = presentedClient(request, body)
    if (!presented || (presented.id === grants.loginClientId && presented.secret === '')) return undefined
    if (presented.secret === '') {
      const client = await fastify.store.clients.find(presented.id)
      if (client?.public !== 1) throw new OAuthError('invalid_client', 'Client authentication failed', 401)
      return client
    }
    const client = await fastify.store.clients.authenticate(presented.id, presented.secret)
    if (!client) throw new OAuthError('invalid_client', 'Client authentication failed', 401)
    return client
  }

  fastify.post('/oauth/token', {
    schema: {
      tags: ['oauth'],
      summary: 'OAuth 2.0 token endpoint: authorization_code (PKCE), client_credentials and refresh_token grants',
      description: 'With a `DPoP` proof header (RFC 9449), the access token is bound to its key (`token_type: DPoP`); a bad proof is 400 invalid_dpop_proof.',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenBodySchema,
      response: { 200: TokenResponseSchema, 400: OAuthErrorSchema, 401: OAuthErrorSchema, 503: OAuthErrorSchema }
    }
  }, async (request, reply) => {
    const body = request.body
    // Authenticate first: a bad secret is invalid_client whatever else is wrong.
    const client = await authenticateClient(request, body)
    let result
    if (body.grant_type === 'authorization_code') {
      if (!client) throw new OAuthError('invalid_client', 'authorization_code needs the client: its credentials, or client_id for a public client', 401)
      if (body.code === undefined) throw new OAuthError('invalid_request', 'code is required')
      // The proof is checked before the code is spent: a bad proof leaves the code to its client.
      const jkt = await fastify.dpopBinding(request, reply, client)
      result = await grants.authorizationCode(client, body.code, body.redirect_uri, body.code_verifier, jkt)
    } else if (body.grant_type === 'client_credentials') {
      if (!client) throw new OAuthError('invalid_client', 'client_credentials needs client authentication', 401)
      if (client.public === 1) throw new OAuthError('unauthorized_client', 'A public client cannot use client_credentials')
      result = await grants.clientCredentials(client, body.scope, body.audience, await fastify.dpopBinding(request, reply, client))
    } else if (body.grant_type === 'refresh_token') {
      if (body.refresh_token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required')
      result = await grants.refresh(body.refresh_token, client?.client_id ?? grants.loginClientId, await fastify.dpopBinding(request, reply, client))
    } else {
      throw new OAuthError('unsupported_grant_type', 'Supported: authorization_code, client_credentials, refresh_token')
    }
    if (!result.ok) {
      if (result.reason === 'invalid_scope') throw new OAuthError('invalid_scope', 'The scope asked for is not the client\'s')
      if (result.reason === 'invalid_target') throw new OAuthError('invalid_target', 'The audience asked for is not the client\'s')
      if (result.reason === 'invalid_code') {
        throw new OAuthError('invalid_grant', 'The code is not valid: unknown, expired, already used, or issued to another client, redirect_uri or code_challenge')
      }
      if (result.reason === 'dpop_key') throw new OAuthError('invalid_grant', 'The refresh token is bound to a DPoP key: send a proof of that key')
      throw new OAuthError('invalid_grant', 'The refresh token is not valid; log in again')
    }
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    return result.tokens
  })

  fastify.post('/oauth/revoke', {
    schema: {
      tags: ['oauth'],
      summary: 'Revoke a refresh token and its whole session, or one access token (RFC 7009)',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: RevokeBodySchema,
      response: { 200: Type.Object({}, { description: 'Revoked, or was never valid: the answer is the same' }), 400: OAuthErrorSchema, 401: OAuthErrorSchema }
    }
  }, async (request) => {
    const client = await authenticateClient(request, request.body)
    // RFC 7009 §2.1: only the asking client's own tokens; §2.2: 200 whether or not anything was
    // revoked, so another client's token is left alone with the same answer. An access token is
    // published on the revocation feed; a refresh token revokes its session (and so its access tokens).
    const { token } = request.body
    const clientId = client?.client_id ?? grants.loginClientId
    if (looksLikeAccessToken(token)) {
      const subject = await revokeAccessToken(token, client)
      if (subject !== undefined) {
        await recordAuthEvent(fastify, request, { actor: clientId, action: 'token.revoke', target: subject, outcome: 'success', detail: { token: 'access_token' } })
      }
    } else {
      const tokens = fastify.store.refreshTokens
      if (await tokens.clientOf(token) === clientId) await auditSessionEnd(fastify, request, 'token.revoke', await tokens.revoke(token), clientId)
    }
    return {}
  })
}
