// Browser sign-in for a browser that already has a session at the auth service (single sign-on):
// GET /authorize answers a code at once (no form, no password hash), then the app exchanges it at
// POST /oauth/token (client_secret_basic, PKCE). One sign-in is the two requests in sequence; the
// row counts completed sign-ins per second from SSO_CLIENTS concurrent browsers sharing one session.
import { createHash, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createClientRepository } from '../../services/auth/store/clients.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { migrateToLatest } from '../../services/auth/store/migrations.js'
import { DEFAULT_AUDIENCE } from '../../services/shared/config.js'
import type { ServerChild } from './children.js'
import type { Sample } from './report.js'
import { quantile } from './load.js'
import type { BenchClient } from './scenarios.js'

export const SSO_CLIENTS = 20
export const SSO_NAME = `SSO sign-in (authorize with a session + code exchange), ${SSO_CLIENTS} clients`
const REDIRECT_URI = 'https://bench.example/callback'

/** A confidential browser client written to the auth service's database before the service starts. */
export async function addBenchBrowserClient (databaseUrl: string): Promise<BenchClient> {
  const db = createDatabase({ url: databaseUrl })
  try {
    await migrateToLatest(db)
    const clientId = 'bench-web'
    const { clientSecret } = await createClientRepository(db).create({
      clientId, name: clientId, scopes: ['openid', 'profile'], audiences: [DEFAULT_AUDIENCE], redirectUris: [REDIRECT_URI]
    })
    return { clientId, clientSecret }
  } finally {
    await db.destroy()
  }
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

const authorizePath = (clientId: string, challenge: string) => `/authorize?${new URLSearchParams({
  client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid profile', state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256'
}).toString()}`

/** Signs in once through the login form; returns the browser session cookie (`name=value`). */
export async function openBrowserSession (auth: ServerChild, client: BenchClient, login: { username: string, password: string }): Promise<string> {
  const cookies = new Map<string, string>()
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      cookies.set(pair!.slice(0, pair!.indexOf('=')), pair!)
    }
  }
  const jar = () => [...cookies.values()].join('; ')
  const started = await fetch(`${auth.url}${authorizePath(client.clientId, pkce().challenge)}`, { redirect: 'manual' })
  remember(started)
  const form = await (await fetch(`${auth.url}/sign-in`, { headers: { cookie: jar() } })).text()
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(form)![1]!
  const signedIn = await fetch(`${auth.url}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar() },
    body: new URLSearchParams({ username: login.username, password: login.password, csrf_token: csrf }).toString()
  })
  remember(signedIn)
  const session = cookies.get('ssot-session')
  if (signedIn.status !== 303 || !session) throw new Error(`bench: the sign-in form answered ${signedIn.status}`)
  return session
}

/** SSO_CLIENTS loops of authorize (with the session cookie) + code exchange for `duration` seconds. */
export async function ssoSignIns (auth: ServerChild, client: BenchClient, sessionCookie: string, duration: number): Promise<Sample> {
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
  const end = performance.now() + duration * 1000
  const latencies: number[] = []
  let errors = 0
  async function loop () {
    while (performance.now() < end) {
      const started = performance.now()
      const { verifier, challenge } = pkce()
      const authorized = await fetch(`${auth.url}${authorizePath(client.clientId, challenge)}`, { redirect: 'manual', headers: { cookie: sessionCookie } })
      await authorized.arrayBuffer()
      const code = new URL(authorized.headers.get('location') ?? 'x:').searchParams.get('code')
      if (authorized.status !== 303 || !code) { errors++; continue }
      const tokens = await fetch(`${auth.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString()
      })
      await tokens.arrayBuffer()
      if (tokens.status !== 200) { errors++; continue }
      latencies.push(performance.now() - started)
    }
  }
  const begun = performance.now()
  await Promise.all(Array.from({ length: SSO_CLIENTS }, loop))
  const seconds = (performance.now() - begun) / 1000
  latencies.sort((a, b) => a - b)
  return { rps: latencies.length / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors }
}
