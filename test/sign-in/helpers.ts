// Browser sign-in test helpers: an auth service with a confidential and a public browser client, a
// user, PKCE pairs, and a small browser (a cookie jar over fetch that stops at each redirect).
import { createHash, randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { addUser, startAuth, type AuthExtra, type Env } from '../helper.js'

export const PASSWORD = 'correct horse battery'
export const WEB_REDIRECT = 'https://web.example/callback'
export const SPA_REDIRECT = 'http://127.0.0.1:4000/cb'

export function pkce () {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** The auth service listening, with `web` (confidential) and `spa` (public) browser clients and the user alice. */
export async function startSignIn (t: Test, env: Env = {}, extra: AuthExtra = {}, uris = { web: WEB_REDIRECT, webLogout: 'https://web.example/', spa: SPA_REDIRECT }) {
  const app = await startAuth(t, env, extra)
  await addUser(app, 'alice', PASSWORD)
  const { clientSecret } = await app.store.clients.create({
    clientId: 'web',
    name: 'The <Web> App',
    scopes: ['openid', 'profile', 'offline_access'],
    audiences: ['ssot-api'],
    redirectUris: [uris.web],
    postLogoutRedirectUris: [uris.webLogout]
  })
  await app.store.clients.create({
    clientId: 'spa',
    name: 'SPA',
    scopes: ['openid', 'profile', 'offline_access'],
    audiences: ['ssot-api'],
    redirectUris: [uris.spa],
    postLogoutRedirectUris: ['http://127.0.0.1:4000/'],
    public: true
  })
  return Object.assign(app, { webSecret: clientSecret })
}

export type SignInApp = Awaited<ReturnType<typeof startSignIn>>

/** A browser: remembers cookies per name (one origin), never follows redirects. */
export function browser () {
  const jar = new Map<string, string>()
  async function request (url: string, init: RequestInit = {}) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie && { cookie }) } })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair!.indexOf('=')
      const [name, value] = [pair!.slice(0, index), pair!.slice(index + 1)]
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
    return { status: response.status, headers: response.headers, location: response.headers.get('location') ?? undefined, text: await response.text() }
  }
  return {
    jar,
    get: (url: string) => request(url),
    post: (url: string, form: Record<string, string>) => request(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString()
    })
  }
}

export type Browser = ReturnType<typeof browser>

export function authorizeUrl (issuer: string, params: Record<string, string | undefined>) {
  const url = new URL('/authorize', issuer)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
  return url.href
}

/** The CSRF token of the login form in `page`. */
export function csrfOf (page: string): string {
  return /name="csrf_token" value="([^"]+)"/.exec(page)![1]!
}

/** Signs in as alice through the form; returns the redirect to the client. */
export async function signInThroughForm (app: SignInApp, b: Browser, params: Record<string, string | undefined>, password = PASSWORD) {
  const started = await b.get(authorizeUrl(app.url, params))
  if (started.location !== '/sign-in') return started
  const form = await b.get(`${app.url}/sign-in`)
  return b.post(`${app.url}/sign-in`, { username: 'alice', password, csrf_token: csrfOf(form.text) })
}

export const webParams = (challenge: string, extra: Record<string, string | undefined> = {}) => ({
  client_id: 'web',
  redirect_uri: WEB_REDIRECT,
  response_type: 'code',
  scope: 'openid profile offline_access',
  state: 'st-1',
  nonce: 'n-1',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  ...extra
})

/** POST /oauth/token with a form body; `basic`: client_secret_basic credentials. */
export async function tokenRequest (issuer: string, form: Record<string, string | undefined>, basic?: [string, string]) {
  const body = new URLSearchParams(Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`
  const response = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers, body })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, string> }
}
