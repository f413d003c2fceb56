// The one way to check a username and password, for every route that takes them (POST
// /auth/login, the hosted login page): through the login throttle, with the client's device
// cookie for that username read from the request, and a new one given on success.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { createDeviceCookies, type DeviceCookieOptions } from './device-cookie.js'
import { recordAuthEvent } from './audit-trail.js'
import { InvalidCredentialsError, PasswordChangeRequiredError, TooManyAttemptsError } from './errors.js'
import { createPasswordChecker } from './passwords.js'
import { normaliseUsername, type User } from './store/users.js'

export type PasswordLoginOptions = DeviceCookieOptions

async function createPasswordLogin (fastify: FastifyInstance, options: PasswordLoginOptions) {
  const passwordMatches = await createPasswordChecker()
  const devices = createDeviceCookies(options)

  /** The user if the password is theirs (and they are enabled); a store error takes the attempt back. */
  async function verify (username: string, password: string, abandoned: () => Promise<void>): Promise<User | undefined> {
    try {
      const user = await fastify.store.users.findByUsername(username)
      const matches = await passwordMatches(user?.password_hash, password)
      return user && matches && !user.disabled ? user : undefined
    } catch (err) {
      await abandoned()
      throw err
    }
  }

  return {
    /**
     * The user whose username and password these are. On success the reply carries a new device
     * cookie. Throws TooManyAttemptsError (429; `Retry-After` is set on the reply) when the
     * throttle refuses the attempt, before the password is checked; InvalidCredentialsError (401)
     * for an unknown user, a wrong password or a disabled user alike, at the same cost. Counts
     * both in `auth_logins_failed_total`. A right password that an admin set as temporary throws
     * PasswordChangeRequiredError (403): the user changes it first (POST /auth/password, changePassword).
     * Each outcome is one audit event (`auth.login`).
     */
    async attempt (request: FastifyRequest, reply: FastifyReply, username: string, password: string, options: { temporaryAllowed?: boolean } = {}): Promise<User> {
      const device = devices.read(request, username)
      const name = normaliseUsername(username)
      const audit = (outcome: 'success' | 'failure' | 'refused', reason?: string) =>
        recordAuthEvent(fastify, request, { actor: name, action: 'auth.login', target: name, outcome, ...(reason && { detail: { reason } }) })
      let admission = await fastify.loginThrottle.admit(username, request.ip, device)
      // An operator may have just run `npm run user:unlock` for this username.
      if (admission.refused && await fastify.loginUnlocks.catchUp()) admission = await fastify.loginThrottle.admit(username, request.ip, device)
      if (admission.refused) {
        reply.header('retry-after', admission.retryAfter)
        fastify.metrics.loginsFailed.inc({ reason: 'rate_limited' })
        await audit('refused', 'throttled')
        throw new TooManyAttemptsError(admission.retryAfter)
      }
      const user = await verify(username, password, admission.abandoned)
      if (!user) {
        await admission.failed()
        fastify.metrics.loginsFailed.inc({ reason: 'invalid_credentials' })
        await audit('failure', 'invalid_credentials')
        throw new InvalidCredentialsError()
      }
      await admission.succeeded()
      devices.issue(reply, user.username)
      if (user.password_change_required && !options.temporaryAllowed) {
        await audit('refused', 'password_change_required')
        throw new PasswordChangeRequiredError()
      }
      await audit('success')
      return user
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Checks a username and password through the throttle and the device cookie (see password-login.ts). */
    passwordLogin: Awaited<ReturnType<typeof createPasswordLogin>>
  }
}

export default fp(async (fastify: FastifyInstance, options: PasswordLoginOptions) => {
  fastify.decorate('passwordLogin', await createPasswordLogin(fastify, options))
}, { name: 'password-login', fastify: '5.x', dependencies: ['@fastify/cookie', 'throttle', 'login-unlocks', 'store', 'metrics'] })
