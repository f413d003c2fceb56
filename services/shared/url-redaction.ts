// Query strings and fragments in log lines, through an allowlist: a parameter whose name is known
// to be harmless keeps its value; every other value is `[redacted]`, whatever its name, spelling
// or encoding, so a credential sent in a URL (a password, a token, an authorization code, an
// OAuth `state` or `nonce`) never reaches a log. A list of secret names to hide was bypassed by
// every spelling it missed (`pwd`, `jwt`, `user_password`, `password[]`, `&amp;password`).

export const CENSOR = '[redacted]'

/**
 * Parameters whose values are safe to log: what OAuth and OpenID Connect requests carry that says
 * what was asked, never who proves what. Not here, so redacted: code, state, nonce, code_verifier,
 * id_token_hint, login_hint, assertions, tokens, and any name we do not know.
 */
const HARMLESS = new Set([
  'response_type', 'response_mode', 'client_id', 'scope', 'grant_type', 'prompt', 'code_challenge', 'code_challenge_method',
  'token_type_hint', 'max_age', 'display', 'ui_locales', 'claims_locales', 'acr_values', 'audience', 'error'
])
/** URL-valued parameters: their origin and path are logged, never their own query or fragment. */
const URL_VALUED = new Set(['redirect_uri', 'post_logout_redirect_uri', 'resource'])
/** An unknown parameter's name is kept only if it cannot be a token itself (one of 256 bits is 43 characters). */
const PLAIN_NAME = /^[\w.[\]-]{1,32}$/

function decoded (text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** A redirect URI as `origin + path`, a marker for whatever followed; undefined if it is not an absolute URL. */
function urlValue (value: string): string | undefined {
  const text = decoded(value)
  if (text === undefined || !URL.canParse(text)) return undefined
  const url = new URL(text)
  const rest = url.search !== '' || url.hash !== '' || /[?#]/.test(text) ? `%3F${CENSOR}` : ''
  return `${encodeURIComponent(url.origin + url.pathname)}${rest}`
}

/** One `name=value` of a query string, as it may be logged. */
function redactParam (param: string): string {
  if (param === '') return param
  const equals = param.indexOf('=')
  if (equals < 0) return CENSOR
  const [rawName, value] = [param.slice(0, equals), param.slice(equals + 1)]
  const name = decoded(rawName)
  if (name !== undefined && HARMLESS.has(name)) return param
  if (name !== undefined && URL_VALUED.has(name)) return `${rawName}=${urlValue(value) ?? CENSOR}`
  return `${name !== undefined && PLAIN_NAME.test(name) ? rawName : CENSOR}=${CENSOR}`
}

/** `rest` starts with `?` or `#`: the query through the allowlist, the fragment redacted whole. */
function redactQueryAndFragment (rest: string): string {
  const hash = rest.indexOf('#')
  const query = hash < 0 ? rest : rest.slice(0, hash)
  const fragment = hash < 0 ? '' : rest.slice(hash)
  const redactedQuery = query === '' ? '' : `?${query.slice(1).split('&').map(redactParam).join('&')}`
  return redactedQuery + (fragment.length > 1 ? `#${CENSOR}` : fragment)
}

/** A value known to be a URL (`req.url`, a `redirect_uri` field): everything after its first `?` or `#` is query and fragment, spaces and quotes included. */
export function redactUrl (url: string): string {
  const at = url.search(/[?#]/)
  return at < 0 ? url : url.slice(0, at) + redactQueryAndFragment(url.slice(at))
}

/**
 * Free text (a message, an error): each run of non-space characters holding a `?` is a URL or a
 * query; one holding a `#` after a `/` is a URL with a fragment (`issue #42` is not).
 */
export function redactUrlsInText (text: string): string {
  return text.replace(/\S*[?#]\S*/g, (run) => {
    const at = run.search(/[?#]/)
    if (run[at] === '#' && !run.slice(0, at).includes('/') && !run.includes('?')) return run
    return redactUrl(run)
  })
}
