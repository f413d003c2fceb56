// The DPoP rows: the same protected route of the same resource app (token cache off), called with
// a Bearer token and with a DPoP-bound token and a fresh proof per request, measured in alternation
// (see alternately), and the bound beside them: a kid lookup, one RS256 verify of the token and one
// ES256 verify of the proof with its embedded key, nothing else. Proofs are signed before each
// slice (a pool), so the load generator's signing does not compete with the server being measured.
import { generateKeyPairSync, hash, randomUUID, sign, type KeyObject } from 'node:crypto'
import type autocannon from 'autocannon'
import type { ServerChild } from './children.js'
import { runLoad, type LoadResult } from './load.js'
import { issuanceRequest, type BenchClient } from './scenarios.js'

export const DPOP_BEARER_NAME = 'protected, Bearer, cache off (beside DPoP)'
export const DPOP_NAME = 'protected, DPoP proof, cache off'
export const DPOP_BOUND_NAME = 'kid lookup + RS256 verify + proof ES256 verify only, same app'
/** What the resource service's default RESOURCE_PUBLIC_URL makes every htu start with. */
export const RESOURCE_PUBLIC_URL = 'http://localhost:3001'

export interface ProofSigner {
  publicJwk: object
  /** A proof for `htm` `htu`, and for `accessToken` when given. */
  proof: (htm: string, htu: string, accessToken?: string) => string
}

export function proofSigner (): ProofSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const publicJwk = publicKey.export({ format: 'jwk' })
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })).toString('base64url')
  const athOf = new Map<string, string>()
  const signed = (input: string, key: KeyObject) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  return {
    publicJwk,
    proof (htm, htu, accessToken) {
      let ath: string | undefined
      if (accessToken !== undefined) {
        ath = athOf.get(accessToken)
        if (ath === undefined) athOf.set(accessToken, ath = hash('sha256', accessToken, 'base64url'))
      }
      const claims = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ...(ath && { ath }) }
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
      return `${input}.${signed(input, privateKey)}`
    }
  }
}

/** A DPoP-bound access token from client_credentials with a proof (RFC 9449 §5). */
export async function issueBoundToken (auth: ServerChild, client: BenchClient, signer: ProofSigner): Promise<string> {
  const request = issuanceRequest(client)
  const response = await fetch(`${auth.url}${request.path}`, { ...request, headers: { ...request.headers, dpop: signer.proof('POST', `${auth.url}${request.path}`) } })
  const body = await response.json() as { access_token?: string, token_type?: string }
  if (response.status !== 200 || body.token_type !== 'DPoP') throw new Error(`bench: no DPoP-bound token: ${response.status} ${JSON.stringify(body)}`)
  return body.access_token!
}

/**
 * Load of `path` on `server` with `token` under the DPoP scheme, each request with its own proof
 * from a pool signed just before the load (a fifth more than the last run needed; signed on the
 * spot if the pool runs dry).
 */
export function dpopLoad (server: ServerChild, path: string, token: string, signer: ProofSigner, connections: number) {
  const htu = `${RESOURCE_PUBLIC_URL}${path}`
  let needed = 2000
  return async (duration: number): Promise<LoadResult> => {
    const pool: string[] = []
    for (let i = 0; i < needed * duration; i++) pool.push(signer.proof('GET', htu, token))
    const requests: autocannon.Request[] = [{
      method: 'GET',
      path,
      setupRequest: (request) => ({ ...request, headers: { authorization: `DPoP ${token}`, dpop: pool.pop() ?? signer.proof('GET', htu, token) } })
    }]
    const result = await runLoad({ url: server.url, requests, connections, duration })
    needed = Math.max(needed, Math.ceil(1.2 * result.rps))
    return result
  }
}

/** Fails the bench before measuring if the DPoP route does not answer 200. */
export async function expectDpopOk (server: ServerChild, path: string, token: string, signer: ProofSigner): Promise<void> {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `DPoP ${token}`, dpop: signer.proof('GET', `${RESOURCE_PUBLIC_URL}${path}`, token) } })
  const body = await response.json() as { message?: string }
  if (response.status !== 200 || body.message !== 'This is a protected resource') throw new Error(`bench: ${server.name} ${path} with DPoP answered ${response.status} ${JSON.stringify(body)}`)
}
