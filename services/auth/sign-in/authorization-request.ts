// The checks of GET /authorize, in the order RFC 6749 §4.1.2.1 and RFC 9700 §4.1 demand: the
// client and its redirect URI first (failing them, the user sees an error page and is never sent
// anywhere), then everything else, whose failures go back to the client's redirect URI.
import type { Client } from '../store/clients.js'
import { redirectUriRegistered } from '../store/clients.js'

/** A request that passed every check: what the code will be bound to. */
export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  scope: string
  state?: string
  nonce?: string
  codeChallenge: string
  /** prompt=login: sign in again even with a session. */
  forceLogin: boolean
  /** prompt=none: never show the form. */
  noPrompt: boolean
  /** max_age (seconds): an older sign-in does not count. */
  maxAge?: number
}

/** A failure shown on the auth service's own page (no redirect). */
export interface PageFailure { kind: 'page', code: string, message: string }
/** A failure sent back to the client (RFC 6749 §4.1.2.1), with state and iss. */
export interface RedirectFailure { kind: 'redirect', redirectUri: string, error: string, description: string, state?: string }

export type CheckedRequest = { kind: 'ok', request: AuthorizationRequest, client: Client } | PageFailure | RedirectFailure

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])
const MAX_STATE = 1024
const MAX_NONCE = 256

type Query = Record<string, string | string[] | undefined>

/** The parameter's single value; an array (a repeated parameter, refused by RFC 6749 §3.1) is `null`. */
function single (query: Query, name: string): string | undefined | null {
  const value = query[name]
  return Array.isArray(value) ? null : value
}

export async function checkAuthorizationRequest (query: Query, findClient: (id: string) => Promise<Client | undefined>): Promise<CheckedRequest> {
  const clientId = single(query, 'client_id')
  if (typeof clientId !== 'string' || clientId === '') return { kind: 'page', code: 'SIGN_IN_INVALID_CLIENT', message: 'The app that sent you here did not say who it is (client_id is missing or repeated).' }
  const client = clientId.length <= 128 ? await findClient(clientId) : undefined
  if (!client || client.redirect_uris === '') return { kind: 'page', code: 'SIGN_IN_INVALID_CLIENT', message: 'The app that sent you here is not registered for sign-in.' }
  const redirectUri = single(query, 'redirect_uri')
  if (typeof redirectUri !== 'string' || !redirectUriRegistered(client.redirect_uris, redirectUri, client.public === 1)) {
    return { kind: 'page', code: 'SIGN_IN_INVALID_REDIRECT_URI', message: 'The app that sent you here asked to send you back to an address it has not registered.' }
  }

  const rawState = single(query, 'state')
  const state = typeof rawState === 'string' ? rawState : undefined
  function fail (uri: string, error: string, description: string): RedirectFailure {
    return { kind: 'redirect', redirectUri: uri, error, description, ...(state !== undefined && state.length <= MAX_STATE && { state }) }
  }
  const values: Record<string, string | undefined> = {}
  for (const name of ['state', 'response_type', 'scope', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'response_mode', 'request', 'request_uri']) {
    const value = single(query, name)
    if (value === null) return fail(redirectUri, 'invalid_request', `${name} is repeated`)
    values[name] = value
  }
  if (state !== undefined && state.length > MAX_STATE) return fail(redirectUri, 'invalid_request', `state is at most ${MAX_STATE} characters`)
  if (values.request !== undefined) return fail(redirectUri, 'request_not_supported', 'Request objects are not supported')
  if (values.request_uri !== undefined) return fail(redirectUri, 'request_uri_not_supported', 'request_uri is not supported')
  if (values.response_type !== 'code') return fail(redirectUri, 'unsupported_response_type', 'Only response_type=code is supported')
  if (values.response_mode !== undefined && values.response_mode !== 'query') return fail(redirectUri, 'invalid_request', 'Only response_mode=query is supported')
  if (values.code_challenge === undefined) return fail(redirectUri, 'invalid_request', 'PKCE is required: send code_challenge and code_challenge_method=S256')
  if (values.code_challenge_method !== 'S256') return fail(redirectUri, 'invalid_request', 'code_challenge_method must be S256 (plain is not accepted)')
  if (!PKCE_CHALLENGE.test(values.code_challenge)) return fail(redirectUri, 'invalid_request', 'code_challenge must be the 43-character base64url SHA-256 of the code_verifier')

  const scopes = (values.scope ?? '').split(' ').filter(Boolean)
  if (scopes.length === 0) return fail(redirectUri, 'invalid_scope', 'scope is required (openid for OpenID Connect)')
  const allowed = client.scopes.split(' ')
  if (!scopes.every((scope) => allowed.includes(scope))) return fail(redirectUri, 'invalid_scope', 'A scope asked for is not the client\'s')

  const nonce = values.nonce
  if (nonce !== undefined && (nonce === '' || nonce.length > MAX_NONCE)) return fail(redirectUri, 'invalid_request', `nonce is 1 to ${MAX_NONCE} characters`)
  const prompts = (values.prompt ?? '').split(' ').filter(Boolean)
  if (!prompts.every((prompt) => PROMPTS.has(prompt))) return fail(redirectUri, 'invalid_request', 'prompt is none, login, consent or select_account')
  if (prompts.includes('none') && prompts.length > 1) return fail(redirectUri, 'invalid_request', 'prompt=none goes alone')
  const maxAge = values.max_age
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) return fail(redirectUri, 'invalid_request', 'max_age is a number of seconds')

  return {
    kind: 'ok',
    client,
    request: {
      clientId: client.client_id,
      redirectUri,
      scope: [...new Set(scopes)].join(' '),
      ...(state !== undefined && { state }),
      ...(nonce !== undefined && { nonce }),
      codeChallenge: values.code_challenge,
      forceLogin: prompts.includes('login'),
      noPrompt: prompts.includes('none'),
      ...(maxAge !== undefined && { maxAge: Number(maxAge) })
    }
  }
}

/** `redirectUri` with these parameters added to its query (RFC 6749 §4.1.2: its own query is kept). */
export function redirectWith (redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return url.href
}
