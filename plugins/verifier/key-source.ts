// Resolves the public key named by a token's `kid`, through get-jwks, from one JWKS URL fixed by
// configuration. Nothing in the token chooses where keys come from.
import { createPublicKey } from 'node:crypto'
import buildGetJwks from 'get-jwks'
import { JwksUnavailableError, TokenInvalidError } from './errors.js'

export interface KeySourceOptions {
  jwksUrl: string
  /** Milliseconds a JWKS fetch may take before the waiting requests are answered 503. */
  fetchTimeout: number
  /** How many keys to keep, and for how long (ms) before they are fetched again. */
  cacheMax: number
  cacheTtl: number
}

export interface TokenHeader {
  alg?: unknown
  kid?: unknown
}

// A kid we would ever publish: RFC 7638 thumbprints are 43 base64url characters; leave room for
// other issuers' formats, but never let junk (paths, huge strings, non-strings) reach a fetch.
const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

/** get-jwks joins a "domain" and a path; split the configured URL into those two. */
function splitJwksUrl (jwksUrl: string): { domain: string, jwksPath: string } {
  const url = new URL(jwksUrl)
  return { domain: `${url.origin}/`, jwksPath: `${url.pathname.slice(1)}${url.search}` }
}

function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => reject(new JwksUnavailableError(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function createKeySource (options: KeySourceOptions) {
  const { domain, jwksPath } = splitJwksUrl(options.jwksUrl)
  const getJwks = buildGetJwks({
    max: options.cacheMax,
    ttl: options.cacheTtl,
    jwksPath,
    fetchOptions: { redirect: 'error' }
  })
  // PEM per JWK object: get-jwks hands back the same object until it refetches, so each key is
  // converted once, and @fastify/jwt reuses one prepared verifier per PEM string.
  const pemByJwk = new WeakMap<object, string>()

  function pemOf (jwk: object): string {
    let pem = pemByJwk.get(jwk)
    if (pem === undefined) {
      pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' }) as string
      pemByJwk.set(jwk, pem)
    }
    return pem
  }

  async function fetchJwk (alg: string, kid: string): Promise<object> {
    try {
      return await withTimeout(getJwks.getJwk({ domain, alg, kid }), options.fetchTimeout)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'JWK_NOT_FOUND') throw new TokenInvalidError('no published key has this kid')
      if (code === 'AUTH_JWKS_UNAVAILABLE') throw err
      throw new JwksUnavailableError(code ?? (err as Error).name)
    }
  }

  return {
    /** The PEM public key for a token header whose `alg` is already allowed. */
    async publicKeyFor (header: TokenHeader): Promise<string> {
      const { alg, kid } = header
      if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
        throw new TokenInvalidError('the kid header is missing or malformed')
      }
      return pemOf(await fetchJwk(alg as string, kid))
    }
  }
}

export type KeySource = ReturnType<typeof createKeySource>
