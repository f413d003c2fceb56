// An issuer's discovery document (OpenID Connect Discovery §4, RFC 8414 §3), read only for the
// endpoints a verifier follows. An endpoint it names must be https under an https issuer and on
// the issuer's origin unless that origin is allowed: the document chooses where keys (and
// revocations) come from, so it gets no more power than the configuration gave the issuer.
import type { KeyAgent } from './key-agent.js'

/** The document names another issuer, or an endpoint the rules above refuse. */
export class DiscoveryError extends Error {}

export interface DiscoveryRules {
  /** Origins besides the issuer's own an endpoint may be on. */
  allowedOrigins: readonly string[]
}

export function discoveryUrl (issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
}

/** `value` as an endpoint of `issuer`, or a DiscoveryError naming `member`. */
export function checkedEndpoint (issuer: string, member: string, value: unknown, rules: DiscoveryRules): string {
  let url: URL
  try {
    url = new URL(value as string)
  } catch {
    throw new DiscoveryError(`${discoveryUrl(issuer)} has no URL in ${member}`)
  }
  const issuerUrl = new URL(issuer)
  if (url.protocol !== 'https:' && (url.protocol !== 'http:' || issuerUrl.protocol === 'https:')) {
    throw new DiscoveryError(`${member} ${url.href} must be https${issuerUrl.protocol === 'https:' ? ' under an https issuer' : ' or http'}`)
  }
  if (url.origin !== issuerUrl.origin && !rules.allowedOrigins.includes(url.origin)) {
    throw new DiscoveryError(`${member} ${url.href} is not on the issuer's origin (allow it with discoveryOrigins)`)
  }
  return url.href
}

/**
 * The issuer's discovery document, read on demand (for the JWKS and the revocation feed), after
 * checking that it names `issuer` exactly. A document naming another issuer most often means the
 * configuration is wrong (a trailing slash, localhost for 127.0.0.1): every token would then be
 * refused as from an untrusted issuer, so `onMismatch` hears of it with the value the issuer uses.
 */
export function createDiscovery (issuer: string, agent: KeyAgent, onMismatch: (named: unknown) => void) {
  const url = discoveryUrl(issuer)
  return {
    url,
    async read (): Promise<Record<string, unknown>> {
      const body = await (await fetch(url, agent.fetchOptions)).json() as Record<string, unknown> | null
      if (body?.issuer !== issuer) {
        onMismatch(body?.issuer)
        throw new DiscoveryError(`${url} names another issuer`)
      }
      return body
    }
  }
}

export type Discovery = ReturnType<typeof createDiscovery>
