// Credentials never reach a log line: whoever logs them, however deep, and in any URL. Applied to
// each finished JSON line (pino's streamWrite hook) rather than with pino's `redact` paths: pino
// 10's redaction with `*.password`-style wildcards cost 28 µs a line (6 times the line itself, npm
// run bench -- --profile), while a line with no suspect name and no `?` or `#` costs one regex test
// here; only the others are parsed and rewritten.
//   - a field named like a credential (`password`, `client_secret`, `cookie`, …, any spelling, at
//     any depth) is written `[redacted]`;
//   - a field named like a URL (`url`, `redirect_uri`, `location`, …) is a URL: its query goes
//     through the allowlist of url-redaction.ts, its fragment is redacted;
//   - any other string is free text: each URL or query in it likewise.
import { CENSOR, redactUrl, redactUrlsInText } from './url-redaction.js'

export { CENSOR }

/** Field names that hold a credential, in any case, with `-`, `_` or nothing between words. */
const SECRET_WORDS = [
  'password', 'passwd', 'secret', 'client secret', 'access token', 'refresh token', 'id token', 'token', 'code verifier',
  'client assertion', 'assertion', 'api key', 'authorization', 'proxy authorization', 'cookie', 'set cookie'
]
const normalise = (name: string) => name.toLowerCase().replace(/[-_ ]/g, '')
const SECRET_KEYS = new Set(SECRET_WORDS.map(normalise))
/** Field names whose value is a URL (or a path with its query). */
const URL_KEY = /(url|uri|href|location|referr?er)$/

const KEY_PATTERN = SECRET_WORDS.map((words) => words.replace(/ /g, '[-_]?')).join('|')
// A line needs a closer look when a JSON key names a secret, or when it holds a `?` or a `#`.
const SUSPECT_LINE = new RegExp(`"(?:${KEY_PATTERN})":|[?#]`, 'i')

function redactValue (value: unknown, key = ''): unknown {
  if (typeof value === 'string') return URL_KEY.test(normalise(key)) ? redactUrl(value) : redactUrlsInText(value)
  if (Array.isArray(value)) return value.map((item) => redactValue(item, key))
  if (value === null || typeof value !== 'object') return value
  const copy: Record<string, unknown> = {}
  for (const [name, inner] of Object.entries(value)) copy[name] = SECRET_KEYS.has(normalise(name)) ? CENSOR : redactValue(inner, name)
  return copy
}

/** One JSON log line (ending in a newline) with every credential replaced by `[redacted]`. */
export function redactLogLine (line: string): string {
  if (!SUSPECT_LINE.test(line)) return line
  return `${JSON.stringify(redactValue(JSON.parse(line)))}\n`
}
