// Credentials never reach a log line: whoever logs them, however deep, and in any URL's query
// string. Applied to each finished JSON line (pino's streamWrite hook) rather than with pino's
// `redact` paths: pino 10's redaction with `*.password`-style wildcards cost 28 µs a line (6 times
// the line itself, npm run bench -- --profile), while a line with no suspect name costs one regex
// test here, and only lines that name a secret or carry a query string are parsed and rewritten.

export const CENSOR = '[redacted]'

/** Field names that hold a credential, in any case, with `-`, `_` or nothing between words. */
const SECRET_WORDS = [
  'password', 'passwd', 'secret', 'client secret', 'access token', 'refresh token', 'id token', 'token', 'code verifier',
  'client assertion', 'assertion', 'api key', 'authorization', 'proxy authorization', 'cookie', 'set cookie'
]
const normalise = (name: string) => name.toLowerCase().replace(/[-_ ]/g, '')
const SECRET_KEYS = new Set(SECRET_WORDS.map(normalise))
// In a query string `code` is an OAuth authorization code; as a log field it is an error code.
const SECRET_PARAMS = new Set([...SECRET_KEYS, 'code'])

const KEY_PATTERN = SECRET_WORDS.map((words) => words.replace(/ /g, '[-_]?')).join('|')
// A line needs a closer look when a JSON key names a secret, or when a string holds `?…=`.
const SUSPECT_LINE = new RegExp(`"(?:${KEY_PATTERN})":|\\?[^"\\s]*=`, 'i')
const QUERY_PARAM = /([?&])([^=&#\s"]+)=([^&#\s"]*)/g

function isSecretParam (name: string): boolean {
  try {
    return SECRET_PARAMS.has(normalise(decodeURIComponent(name.replace(/\+/g, ' '))))
  } catch {
    return true // not valid percent-encoding: the name cannot be read, so neither is its value
  }
}

/** `text` with the value of every credential-named query parameter replaced by `[redacted]`. */
export function redactQuery (text: string): string {
  return text.replace(QUERY_PARAM, (param: string, separator: string, name: string) =>
    isSecretParam(name) ? `${separator}${name}=${CENSOR}` : param)
}

function redactValue (value: unknown): unknown {
  if (typeof value === 'string') return value.includes('?') ? redactQuery(value) : value
  if (Array.isArray(value)) return value.map(redactValue)
  if (value === null || typeof value !== 'object') return value
  const copy: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) copy[key] = SECRET_KEYS.has(normalise(key)) ? CENSOR : redactValue(inner)
  return copy
}

/** One JSON log line (ending in a newline) with every credential replaced by `[redacted]`. */
export function redactLogLine (line: string): string {
  if (!SUSPECT_LINE.test(line)) return line
  return `${JSON.stringify(redactValue(JSON.parse(line)))}\n`
}
