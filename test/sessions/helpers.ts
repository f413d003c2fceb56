// Helpers for the session and client tests: JSON and form calls against an auth app.
import type { buildAuth } from '../helper.js'

type AuthApp = Awaited<ReturnType<typeof buildAuth>>

export function postJson (app: AuthApp, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
}

export function postForm (app: AuthApp, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString()
  })
}

export function basic (clientId: string, clientSecret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}` }
}

/** Logs `username` in and returns the token pair. */
export async function loginPair (app: AuthApp, username: string, password: string) {
  const response = await postJson(app, '/auth/login', { username, password })
  if (response.statusCode !== 200) throw new Error(`login answered ${response.statusCode}`)
  return response.json() as { access_token: string, refresh_token: string, expires_in: number }
}

export function refresh (app: AuthApp, refreshToken: string) {
  return postJson(app, '/auth/refresh', { refresh_token: refreshToken })
}
