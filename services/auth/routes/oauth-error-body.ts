// The RFC 6749 §5.2 error body, with our `statusCode` and stable `code` beside `error`.
import { standardErrorBody, type ErrorBodyFor } from '../../shared/framework-errors.js'

export function oauthErrorBody (error: string, description: string, statusCode: number) {
  return { error, error_description: description, statusCode, code: `OAUTH_${error.toUpperCase()}` }
}

/** Errors raised before a route: RFC 6749 bodies under /oauth/ (a client there reads `error`), ours elsewhere. */
export const oauthAwareErrorBody: ErrorBodyFor = (url, statusCode, code, message) => {
  if (!url?.startsWith('/oauth/')) return standardErrorBody(url, statusCode, code, message)
  return oauthErrorBody(statusCode >= 500 ? 'server_error' : 'invalid_request', message, statusCode)
}
