// This service's own access token (client_credentials), for calling other protected services.
// Cached until shortly before it expires; concurrent callers share one request to the issuer.
import createError from '@fastify/error'

export const ServiceTokenError = createError<[string]>('RESOURCE_SERVICE_TOKEN_UNAVAILABLE', 'This service cannot get its own access token: %s', 503)

export interface ServiceTokenOptions {
  tokenUrl: string
  clientId: string
  clientSecret: string
  scope: string
  /** Seconds before `exp` at which a new token is fetched. */
  refreshMargin?: number
  /** Milliseconds the issuer has to answer. */
  timeout?: number
}

export function createServiceTokenSource (options: ServiceTokenOptions) {
  const margin = (options.refreshMargin ?? 30) * 1000
  let cached: { accessToken: string, renewAt: number } | undefined
  let inFlight: Promise<string> | undefined

  async function fetchToken (): Promise<string> {
    const credentials = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')
    let response: Response
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope }),
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeout ?? 3000)
      })
    } catch {
      throw new ServiceTokenError('the issuer is unreachable or did not answer in time')
    }
    const body = await response.json().catch(() => ({})) as { access_token?: string, expires_in?: number, error?: string }
    if (!response.ok || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new ServiceTokenError(`the issuer answered ${response.status} ${body.error ?? ''}`.trim())
    }
    cached = { accessToken: body.access_token, renewAt: Date.now() + body.expires_in * 1000 - margin }
    return body.access_token
  }

  return {
    /** A valid access token of this service. */
    async accessToken (): Promise<string> {
      if (cached && Date.now() < cached.renewAt) return cached.accessToken
      inFlight ??= fetchToken().finally(() => { inFlight = undefined })
      return inFlight
    }
  }
}

export type ServiceTokenSource = ReturnType<typeof createServiceTokenSource>
