// The admin listener beside a test's auth service, admin users, and tokens for the admin API
// signed by the service's own issuer (as the sign-in would issue them), with the claims a test needs.
import type { Test } from 'tap'
import { buildAdminApp, localUrl } from '../../services/auth/admin/app.js'
import { adminAppOptions, loadAuthEnv } from '../../services/auth/config.js'
import { addUser, reservePort, type Env, type startAuth } from '../helper.js'

type AuthApp = Awaited<ReturnType<typeof startAuth>>

/** The admin app of `auth` (which listens already) on a free loopback port (or `port`); `url` is its address. */
export async function startAdmin (t: Test, auth: AuthApp, env: Env = {}, port = 0) {
  const options = adminAppOptions(loadAuthEnv({ ISSUER_URL: auth.url, ...env }), localUrl(auth))
  const admin = await buildAdminApp(auth, options)
  t.teardown(() => admin.close())
  const url = await admin.listen({ host: '127.0.0.1', port })
  return Object.assign(admin, { url })
}

/** The admin app with its console at its own address (ADMIN_CONSOLE_URL), as a browser reaches it. */
export async function startConsole (t: Test, auth: AuthApp, env: Env = {}) {
  const { port, close } = await reservePort()
  await close()
  return startAdmin(t, auth, { ADMIN_CONSOLE_URL: `http://127.0.0.1:${port}`, ...env }, port)
}

export interface TokenClaims {
  scope?: string
  roles?: string[]
  aud?: string
  /** Seconds since the sign-in (auth_time = now - this); undefined: no auth_time. */
  signedInAgo?: number
}

/** An access token for `username` (who must exist), by default one an admin just signed in for. */
export async function adminToken (auth: AuthApp, username: string, claims: TokenClaims = {}): Promise<string> {
  const user = (await auth.store.users.findByUsername(username))!
  const now = Math.floor(Date.now() / 1000)
  const signedInAgo = 'signedInAgo' in claims ? claims.signedInAgo : 0
  const { accessToken } = await auth.issuer.signAccessToken({
    sub: user.id,
    client_id: 'ssot-admin-console',
    scope: claims.scope ?? 'admin:read admin:write',
    username: user.username,
    roles: claims.roles ?? user.roles.split(' ').filter(Boolean),
    aud: claims.aud ?? 'ssot-admin',
    ...(signedInAgo !== undefined && { auth_time: now - signedInAgo })
  })
  return accessToken
}

export const ADMIN_PASSWORD = 'the admin password, long enough'

/** The auth service, its admin listener, and an admin `root` with a fresh token. */
export async function adminSetUp (t: Test, startAuthService: typeof startAuth, env: Env = {}) {
  const auth = await startAuthService(t, env)
  const admin = await startAdmin(t, auth, env)
  await addUser(auth, 'root', ADMIN_PASSWORD, ['admin'])
  const token = await adminToken(auth, 'root')
  /** A call of the admin API with the admin's token (or `as`). */
  async function call (method: string, path: string, body?: unknown, as = token, headers: Record<string, string> = {}) {
    const response = await fetch(`${admin.url}${path}`, {
      method,
      headers: { ...(as !== '' && { authorization: `Bearer ${as}` }), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, text, body: text && response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined }
  }
  return { auth, admin, token, call }
}
