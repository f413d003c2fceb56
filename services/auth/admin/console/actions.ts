// What each console form does: one admin API call (the console is a client of its own API, so the
// same guards, re-authentication and audit apply), whether it is destructive (confirmed first),
// and what to say when it is done.
type Fields = Record<string, string>

export interface ConsoleAction {
  method: 'POST' | 'PUT' | 'DELETE'
  path: (fields: Fields) => string
  body?: (fields: Fields) => unknown
  /** The question of the confirmation page; only destructive actions have one. */
  confirm?: (fields: Fields) => string
  done: (fields: Fields) => string
}

const user = (fields: Fields) => `/api/users/${encodeURIComponent(String(fields.username))}`
const client = (fields: Fields) => `/api/clients/${encodeURIComponent(String(fields.clientId))}`
const list = (text: string | undefined) => (text ?? '').split(/[\s,]+/).filter(Boolean)

export const CONSOLE_ACTIONS: Record<string, ConsoleAction> = {
  'user-create': {
    method: 'POST',
    path: () => '/api/users',
    body: (f) => ({ username: f.username, password: f.password, roles: list(f.roles), temporary: f.temporary === 'on' }),
    done: (f) => `User ${f.username} created.`
  },
  'user-disable': { method: 'POST', path: (f) => `${user(f)}/disable`, confirm: (f) => `Disable ${f.username} and end every session?`, done: (f) => `User ${f.username} disabled; their sessions are ended.` },
  'user-enable': { method: 'POST', path: (f) => `${user(f)}/enable`, done: (f) => `User ${f.username} enabled.` },
  'user-delete': { method: 'DELETE', path: user, confirm: (f) => `Delete ${f.username}?`, done: (f) => `User ${f.username} deleted.` },
  'user-password': {
    method: 'PUT',
    path: (f) => `${user(f)}/password`,
    body: (f) => ({ password: f.password, temporary: f.temporary === 'on' }),
    confirm: (f) => `Set a new password for ${f.username} and end every session?`,
    done: (f) => `Password of ${f.username} set.`
  },
  'user-roles': { method: 'PUT', path: (f) => `${user(f)}/roles`, body: (f) => ({ roles: list(f.roles) }), done: (f) => `Roles of ${f.username} saved.` },
  'user-unlock': { method: 'POST', path: (f) => `${user(f)}/unlock`, done: (f) => `Login throttling of ${f.username} cleared.` },
  'user-sessions-revoke': { method: 'DELETE', path: (f) => `${user(f)}/sessions`, confirm: (f) => `End every session of ${f.username}?`, done: (f) => `Every session of ${f.username} ended.` },
  'user-session-revoke': { method: 'DELETE', path: (f) => `${user(f)}/sessions/${encodeURIComponent(String(f.sessionId))}`, done: () => 'Session ended.' },
  'client-create': {
    method: 'POST',
    path: () => '/api/clients',
    body: (f) => ({
      clientId: f.clientId,
      scopes: list(f.scopes),
      ...(list(f.audiences).length > 0 && { audiences: list(f.audiences) }),
      ...(list(f.redirectUris).length > 0 && { redirectUris: list(f.redirectUris) }),
      public: f.public === 'on'
    }),
    done: (f) => `Client ${f.clientId} created.`
  },
  'client-disable': { method: 'POST', path: (f) => `${client(f)}/disable`, confirm: (f) => `Disable ${f.clientId} and revoke its tokens?`, done: (f) => `Client ${f.clientId} disabled.` },
  'client-enable': { method: 'POST', path: (f) => `${client(f)}/enable`, done: (f) => `Client ${f.clientId} enabled.` },
  'client-delete': { method: 'DELETE', path: client, confirm: (f) => `Delete ${f.clientId} and revoke its tokens?`, done: (f) => `Client ${f.clientId} deleted.` },
  'client-rotate': { method: 'POST', path: (f) => `${client(f)}/rotate-secret`, confirm: (f) => `Rotate the secret of ${f.clientId}? The old one stops working.`, done: (f) => `New secret of ${f.clientId}:` },
  'keys-rotate': { method: 'POST', path: () => '/api/keys/rotate', body: (f) => ({ force: f.force === 'on' }), confirm: () => 'Rotate the signing keys now?', done: () => 'Keys rotated.' },
  'key-retire': {
    method: 'POST',
    path: (f) => `/api/keys/${encodeURIComponent(String(f.kid))}/retire`,
    confirm: (f) => `Retire the key ${f.kid} now? Tokens it signed stop verifying once verifiers refetch the JWKS.`,
    done: (f) => `Key ${f.kid} retired: removed from the JWKS.`
  }
}
