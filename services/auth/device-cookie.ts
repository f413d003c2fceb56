// The device cookie of OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a client
// that logs in as a user gets one, and from then on its login attempts for that user are counted
// on their own, apart from everyone else's (login-throttle.ts). It is signed with COOKIE_SECRET
// (@fastify/cookie's HMAC-SHA256), HttpOnly, SameSite=Strict, Secure with a `__Host-` name over
// https, and holds `<tag>.<nonce>`: the tag, an HMAC of the username, binds it to that user, and
// names the cookie too, so that several accounts used on one device each keep their own and the
// name tells nobody the username. A new nonce at every login, as OWASP renews it.
import { createHmac, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { normaliseUsername } from './store/users.js'

export interface DeviceCookieOptions {
  /** The cookie secrets: the first signs, any one is accepted (rotation). */
  secrets: string[]
  /** Over https (ISSUER_URL): `__Host-` names and the Secure attribute. */
  secure: boolean
  /** Seconds the cookie lives after each login. */
  maxAge: number
}

const NONCE = /^[\w-]{22}$/

/** `ssot-device-<tag>` (`__Host-ssot-device-<tag>` over https). */
export function deviceCookiePrefix (secure: boolean): string {
  return secure ? '__Host-ssot-device-' : 'ssot-device-'
}

export function createDeviceCookies (options: DeviceCookieOptions) {
  const prefix = deviceCookiePrefix(options.secure)
  /** The username's tag under each secret (the first is the one given out). */
  const tags = (username: string) => options.secrets.map((secret) =>
    createHmac('sha256', secret).update(`device-cookie\0${normaliseUsername(username)}`).digest('base64url').slice(0, 16))

  return {
    /** The nonce of a valid device cookie for `username` in the request, or undefined (none, forged, another user's, or signed with a retired secret's name). */
    read (request: FastifyRequest, username: string): string | undefined {
      // Most attempts carry no device cookie at all: no HMAC for them.
      if (!Object.keys(request.cookies).some((name) => name.startsWith(prefix))) return undefined
      for (const tag of tags(username)) {
        const cookie = request.cookies[prefix + tag]
        if (cookie === undefined) continue
        const { valid, value } = request.unsignCookie(cookie)
        const [valueTag, nonce] = valid && value !== null ? value.split('.') : []
        if (valueTag === tag && nonce !== undefined && NONCE.test(nonce)) return nonce
      }
      return undefined
    },

    /** Gives the client a new device cookie for `username`. */
    issue (reply: FastifyReply, username: string): void {
      const [tag] = tags(username)
      reply.setCookie(prefix + tag!, `${tag}.${randomBytes(16).toString('base64url')}`, {
        signed: true, httpOnly: true, secure: options.secure, sameSite: 'strict', path: '/', maxAge: options.maxAge
      })
    }
  }
}

export type DeviceCookies = ReturnType<typeof createDeviceCookies>
