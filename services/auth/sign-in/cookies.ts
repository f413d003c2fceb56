// The cookies of browser sign-in: the browser session (single sign-on) and the sign-in attempt
// (binds the login form to the browser that opened it). Both signed (@fastify/cookie), HttpOnly,
// SameSite=Lax (they must come along when an app sends the browser here), path /, and over https
// Secure with a `__Host-` name; on http (development) the names lose the prefix, which browsers
// refuse without Secure.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface SignInCookieOptions {
  secure: boolean
  /** The cookie secrets (the first signs); the CSRF token is an HMAC under the first. */
  secrets: string[]
  /** Seconds: the session cookie's lifetime (the session's absolute lifetime). */
  sessionMaxAge: number
  attemptMaxAge: number
}

export function sessionCookieName (secure: boolean): string {
  return secure ? '__Host-ssot-session' : 'ssot-session'
}

export function attemptCookieName (secure: boolean): string {
  return secure ? '__Host-ssot-sign-in' : 'ssot-sign-in'
}

export function createSignInCookies (options: SignInCookieOptions) {
  const names = { session: sessionCookieName(options.secure), attempt: attemptCookieName(options.secure) }
  const base = { signed: true, httpOnly: true, secure: options.secure, sameSite: 'lax', path: '/' } as const

  function read (request: FastifyRequest, name: string): string | undefined {
    const cookie = request.cookies[name]
    if (cookie === undefined) return undefined
    const { valid, value } = request.unsignCookie(cookie)
    return valid && value !== null && /^[\w-]{43}$/.test(value) ? value : undefined
  }

  /** The CSRF token of a form: an HMAC of the cookie's secret, so it is valid only with that cookie. */
  const csrfToken = (cookieSecret: string, purpose: string) =>
    createHmac('sha256', options.secrets[0]!).update(`${purpose}\0${cookieSecret}`).digest('base64url')

  return {
    names,
    session: (request: FastifyRequest) => read(request, names.session),
    attempt: (request: FastifyRequest) => read(request, names.attempt),
    setSession: (reply: FastifyReply, token: string) => reply.setCookie(names.session, token, { ...base, maxAge: options.sessionMaxAge }),
    setAttempt: (reply: FastifyReply, token: string) => reply.setCookie(names.attempt, token, { ...base, maxAge: options.attemptMaxAge }),
    clearSession: (reply: FastifyReply) => reply.clearCookie(names.session, { ...base, signed: false }),
    clearAttempt: (reply: FastifyReply) => reply.clearCookie(names.attempt, { ...base, signed: false }),
    csrfToken,
    /** Whether `presented` is the CSRF token of `cookieSecret`, compared in constant time. */
    csrfMatches (cookieSecret: string, purpose: string, presented: unknown): boolean {
      if (typeof presented !== 'string') return false
      const expected = Buffer.from(csrfToken(cookieSecret, purpose))
      const given = Buffer.from(presented)
      return given.length === expected.length && timingSafeEqual(given, expected)
    }
  }
}

export type SignInCookies = ReturnType<typeof createSignInCookies>
