// Log fields that may hold a credential: never written, whoever logs them and however deep
// (pino's redact; a `*` matches one level, so the usual nestings are listed).
const SECRET_FIELDS = ['password', 'refresh_token', 'access_token', 'client_secret', 'authorization', 'cookie', 'token']
const HEADER_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie', 'headers["set-cookie"]'
]

export const REDACTED_PATHS = [
  ...HEADER_PATHS,
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`])
]
