// Row types of the auth database, shared by the migrations and the repositories.
import type { Generated } from 'kysely'

export interface UsersTable {
  id: string
  /** Normalised (NFKC, lower case, trimmed): the unique login name. */
  username: string
  password_hash: string
  /** Space-separated role names. */
  roles: string
  disabled: Generated<number>
  created_at: string
  /** 1 after an admin set a temporary password: the next sign-in must change it. */
  password_change_required: Generated<number>
}

/** One login (or one refresh-token grant chain): revoking it kills every token it issued. */
export interface RefreshFamiliesTable {
  id: string
  user_id: string
  client_id: string
  scope: string
  created_at: string
  /** Absolute end of the session, whatever the refreshes. */
  expires_at: string
  revoked_at: string | null
  /** The browser session (sign-in) whose authorization code opened this family; null for /auth/login. */
  browser_session_id: Generated<string | null>
  /** The RFC 7638 thumbprint of the DPoP key the family's refresh tokens are bound to (public clients); null: unbound. */
  dpop_jkt: Generated<string | null>
}

export interface RefreshTokensTable {
  /** SHA-256 (hex) of the opaque token: the token itself is never stored. */
  token_hash: string
  family_id: string
  created_at: string
  /** Idle end: the next refresh must come before it (never after the family's expires_at). */
  expires_at: string
  used_at: string | null
}

export interface ClientsTable {
  client_id: string
  name: string
  /** SHA-256 (hex) of a 256-bit random secret. */
  secret_hash: string
  /** Space-separated. */
  scopes: string
  audiences: string
  created_at: string
  /**
   * The client's credential generation: a random UUID in the `sid` of its tokens, replaced when its
   * secret is rotated or it is enabled again, so one revocation of it revokes every token it had.
   */
  generation: string
  disabled: Generated<number>
  /** Space-separated, each compared by exact string (RFC 9700 §2.1); empty: no browser sign-in. */
  redirect_uris: Generated<string>
  post_logout_redirect_uris: Generated<string>
  /** 1: a public client (no secret; PKCE alone proves it); its loopback redirect URIs may change port. */
  public: Generated<number>
  /** 1: every token request of this client must carry a DPoP proof (RFC 9449 §5.2). */
  dpop_required: Generated<number>
}

/** A sign-in at the hosted page (single sign-on): the cookie holds a secret whose SHA-256 is token_hash; id is the ID token's sid. */
export interface BrowserSessionsTable {
  id: string
  token_hash: string
  user_id: string
  /** Unix seconds of the password check (the ID token's auth_time). */
  auth_time: number
  created_at: string
  /** Moved forward at each use, never past expires_at (absolute). */
  idle_expires_at: string
  expires_at: string
}

/** One authorization code (60 s, single use), stored as its SHA-256. */
export interface AuthorizationCodesTable {
  code_hash: string
  client_id: string
  redirect_uri: string
  /** The S256 code_challenge. */
  code_challenge: string
  user_id: string
  scope: string
  nonce: string | null
  auth_time: number
  browser_session_id: string
  created_at: string
  expires_at: string
  /** Set once, by the one redemption that wins. */
  consumed_at: string | null
  /** The refresh family the redemption opened: a second redemption revokes it. */
  family_id: string | null
}

/** An authorization request waiting for the login form; the sign-in-attempt cookie holds the secret of token_hash. */
export interface SignInAttemptsTable {
  token_hash: string
  /** The checked authorization request, JSON. */
  request: string
  created_at: string
  expires_at: string
}

/**
 * One event of the revocation feed. `id` grows in commit order and is never reused; `hash` is the
 * base64url SHA-256 of `sid:<sid>` or `jti:<jti>`; the row lives until `expires_at`, after which
 * no token it affects is valid. PostgreSQL returns the bigint id as a string: read it with Number().
 */
export interface RevocationsTable {
  id: Generated<number | string>
  hash: string
  expires_at: string
  created_at: string
}

/** The key ring when KEYS_BACKEND=database (see signing-keys.ts). */
export interface SigningKeysTable {
  kid: string
  state: 'next' | 'active' | 'retired'
  created_at: string
  activated_at: string | null
  retired_at: string | null
  /** The PKCS#8 PEM sealed with AES-256-GCM (key-encryption.ts); never the key in clear. */
  private_key_sealed: string
}

/** `npm run user:unlock` for one username: every replica forgets its login throttling state (login-unlocks.ts). */
export interface LoginUnlocksTable {
  id: Generated<number | string>
  /** Normalised. */
  username: string
  created_at: string
}

/**
 * The audit trail (append-only; purged after AUDIT_RETENTION_DAYS): who (`actor`: a username, or
 * `cli`, or the username tried at a failed sign-in) did what (`action`, e.g. `user.disable`,
 * `auth.login`) to what (`target`), from where (`ip`), with what `outcome`. `detail` is JSON of
 * harmless facts (counts, flags, scopes); never a password, secret or token.
 */
export interface AuditEventsTable {
  id: Generated<number | string>
  at: string
  actor: string
  action: string
  target: string
  ip: string
  outcome: 'success' | 'failure' | 'refused'
  detail: Generated<string>
}

export interface Database {
  users: UsersTable
  refresh_families: RefreshFamiliesTable
  refresh_tokens: RefreshTokensTable
  clients: ClientsTable
  signing_keys: SigningKeysTable
  revocations: RevocationsTable
  login_unlocks: LoginUnlocksTable
  browser_sessions: BrowserSessionsTable
  authorization_codes: AuthorizationCodesTable
  sign_in_attempts: SignInAttemptsTable
  audit_events: AuditEventsTable
}
