// What discovery says about browser sign-in (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 9207).
import { AUTHORIZE_PATH } from './routes.js'

export const USERINFO_PATH = '/userinfo'
export const END_SESSION_PATH = '/end-session'

export function signInDiscovery (issuer: string): Record<string, unknown> {
  const base = issuer.replace(/\/+$/, '')
  return {
    authorization_endpoint: `${base}${AUTHORIZE_PATH}`,
    userinfo_endpoint: `${base}${USERINFO_PATH}`,
    end_session_endpoint: `${base}${END_SESSION_PATH}`,
    revocation_endpoint: `${base}/oauth/revoke`,
    scopes_supported: ['openid', 'profile', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'at_hash', 'preferred_username'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    id_token_signing_alg_values_supported: ['RS256'],
    subject_types_supported: ['public'],
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account']
  }
}
