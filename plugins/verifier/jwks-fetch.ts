// One JWKS fetch: a hard deadline that aborts the request, redirects refused, the status and the
// content type checked before the body is read, a size cap, and the Cache-Control max-age.
// Written on top of fetch rather than get-jwks: get-jwks shares one fetch options object across
// all fetches (no per-fetch AbortSignal), hides the response headers and the rest of the key set.

/** Why a fetch failed. `unreachable` (network, timeout, 5xx) keeps the last keys usable. */
export class JwksFetchError extends Error {
  constructor (message: string, readonly unreachable: boolean, readonly timedOut = false) {
    super(message)
  }
}

export interface FetchedJson {
  body: unknown
  /** Seconds from Cache-Control max-age (0 for no-store/no-cache), undefined when absent. */
  maxAge: number | undefined
}

// A real JWKS is a few KB; a larger answer is a wrong endpoint, and reading it would cost memory.
const MAX_BODY_BYTES = 256 * 1024
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i

function maxAgeOf (cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return 0
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl)
  return match ? Number(match[1]) : undefined
}

async function readCapped (response: Response, url: string): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body!) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) throw new JwksFetchError(`${url} answered more than ${MAX_BODY_BYTES} bytes`, false)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function checkAnswer (response: Response, url: string): void {
  const { status } = response
  if (status >= 300 && status < 400) {
    throw new JwksFetchError(`${url} answered a redirect (${status}); redirects are refused`, false)
  }
  if (status >= 500) throw new JwksFetchError(`${url} answered ${status}`, true)
  if (status !== 200) throw new JwksFetchError(`${url} answered ${status}, not 200`, false)
  const type = response.headers.get('content-type') ?? '(none)'
  if (!JSON_TYPE.test(type)) throw new JwksFetchError(`${url} answered ${type}, not JSON`, false)
}

async function getJson (url: string, signal: AbortSignal): Promise<FetchedJson> {
  const response = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } })
  try {
    checkAnswer(response, url)
  } catch (err) {
    await response.body?.cancel().catch(() => {})
    throw err
  }
  const text = await readCapped(response, url)
  try {
    return { body: JSON.parse(text), maxAge: maxAgeOf(response.headers.get('cache-control')) }
  } catch {
    throw new JwksFetchError(`${url} answered invalid JSON`, false)
  }
}

/** GET `url` as JSON within `timeout` ms (or until `stop` aborts); rejects with a JwksFetchError, never hangs. */
export async function fetchJson (url: string, timeout: number, stop: AbortSignal): Promise<FetchedJson> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeout)
  const onStop = () => controller.abort()
  stop.addEventListener('abort', onStop)
  // The race settles at the deadline even if the fetch ignored the abort signal.
  const deadline = new Promise<never>((resolve, reject) => {
    controller.signal.addEventListener('abort', () => reject(new JwksFetchError(`${url} gave no answer within ${timeout} ms`, true, true)))
  })
  try {
    return await Promise.race([getJson(url, controller.signal).catch((err: unknown) => {
      if (err instanceof JwksFetchError) throw err
      // fetch rejects with a TypeError ("fetch failed", "terminated") whose `cause` says why.
      throw new JwksFetchError(`cannot reach ${url}: ${(err as Error).message} (${String((err as Error).cause)})`, true)
    }), deadline])
  } finally {
    clearTimeout(timer)
    stop.removeEventListener('abort', onStop)
    controller.abort()
  }
}
