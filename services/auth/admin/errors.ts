// Errors of the admin API (its own codes; the verifier's 401/403 come from the verifier).
import createError from '@fastify/error'

/** A destructive action needs a recent sign-in: sign in again (the console sends the admin to the hosted page). */
export const ReauthRequiredError = createError<[number]>('ADMIN_REAUTH_REQUIRED',
  'This action needs a sign-in less than %d seconds old: sign in again', 401)
/** The token is valid, but its user is unknown, disabled, or no longer has the admin role. */
export const AdminRoleRequiredError = createError('ADMIN_ROLE_REQUIRED', 'The admin API needs a user with the admin role', 403)
export const UserNotFoundError = createError('ADMIN_USER_NOT_FOUND', 'No such user', 404)
export const UserExistsError = createError('ADMIN_USER_EXISTS', 'A user with this username exists already', 409)
export const SessionNotFoundError = createError('ADMIN_SESSION_NOT_FOUND', 'The user has no such live session', 404)
export const ClientNotFoundError = createError('ADMIN_CLIENT_NOT_FOUND', 'No such client', 404)
export const ClientExistsError = createError('ADMIN_CLIENT_EXISTS', 'A client with this client_id exists already', 409)
export const ClientReservedError = createError<[string]>('ADMIN_CLIENT_RESERVED', '%s is the client of first-party logins (LOGIN_CLIENT_ID)', 400)
