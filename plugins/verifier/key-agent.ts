// The one HTTP client every key request goes through, ours and get-jwks's alike: get-jwks passes
// one `fetchOptions` object to every fetch, so an undici Agent given as its `dispatcher`, composed
// with the guard below, is where each request gets what get-jwks does not do itself:
// - a hard deadline from dispatch to the last byte (get-jwks' `timeout` is not a fetch option, and
//   undici's own timeouts are per phase: a server that drips its body never trips them);
// - redirects refused (`redirect: 'error'`; get-jwks would follow a 302 to another server's keys);
// - the status and content type checked before the body is read (get-jwks parses it first);
// - a cap on the body size.
import { Agent, type Dispatcher } from 'undici'

/** An answer the guard refused, or the deadline; fetch rejects with it as its `cause`. */
export class KeyRequestError extends Error {
  constructor (message: string, readonly timedOut = false) {
    super(message)
    this.name = 'KeyRequestError'
  }
}

export interface GuardRules {
  /** Milliseconds from dispatch to the last byte of the body (undefined: a stream, bounded by `idleTimeout`). */
  deadline: number | undefined
  /** Milliseconds to connect and to receive the headers. */
  timeout: number
  /** Longest silence within the body (default: `timeout`). */
  idleTimeout?: number
  maxBytes: number
  contentType: RegExp
}

const CONTENT_TYPE = /^content-type$/i

class GuardHandler implements Dispatcher.DispatchHandlers {
  #abort: ((err: Error) => void) | undefined
  #failure: Error | undefined
  #size = 0
  readonly #timer: NodeJS.Timeout | undefined

  constructor (readonly handler: Dispatcher.DispatchHandlers, readonly url: string, readonly rules: GuardRules) {
    const { deadline } = rules
    if (deadline !== undefined) this.#timer = setTimeout(() => this.#fail(new KeyRequestError(`${url} gave no complete answer within ${deadline} ms`, true)), deadline)
  }

  #fail (error: Error): void {
    this.#failure ??= error
    this.#abort?.(this.#failure)
  }

  onConnect (abort: (err?: Error) => void): void {
    this.#abort = abort
    // The deadline may pass while connecting (undici's connect timeout bounds that phase).
    if (this.#failure) abort(this.#failure)
    this.handler.onConnect!(abort)
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode !== 200) throw new KeyRequestError(`${this.url} answered ${statusCode}, not 200`)
    const index = headers.findIndex((name, i) => i % 2 === 0 && CONTENT_TYPE.test(name.toString('latin1')))
    const type = index === -1 ? '(none)' : headers[index + 1]!.toString('latin1')
    if (!this.rules.contentType.test(type)) throw new KeyRequestError(`${this.url} answered ${type}, not the expected type`)
    return this.handler.onHeaders!(statusCode, headers, resume, statusText)
  }

  onData (chunk: Buffer): boolean {
    this.#size += chunk.length
    if (this.#size > this.rules.maxBytes) throw new KeyRequestError(`${this.url} answered more than ${this.rules.maxBytes} bytes`)
    return this.handler.onData!(chunk)
  }

  onComplete (trailers: string[] | null): void {
    clearTimeout(this.#timer)
    this.handler.onComplete!(trailers)
  }

  onResponseStarted (): void {
    this.handler.onResponseStarted!()
  }

  onError (err: Error): void {
    clearTimeout(this.#timer)
    this.handler.onError!(this.#failure ?? err)
  }
}

/** The undici interceptor that puts every request under `rules`. */
export function guard (rules: GuardRules): Dispatcher.DispatchInterceptor {
  return (dispatch) => (options, handler) => dispatch(options, new GuardHandler(handler, `${options.origin}${options.path}`, rules))
}

/** fetch options (`dispatcher`, `redirect`, `accept`) whose requests all follow `rules`; `close` ends every socket and request. */
export function createKeyAgent (rules: GuardRules, accept: string) {
  const agent = new Agent({ connect: { timeout: rules.timeout }, headersTimeout: rules.timeout, bodyTimeout: rules.idleTimeout ?? rules.timeout })
  const dispatcher = agent.compose(guard(rules))
  return {
    fetchOptions: { dispatcher, redirect: 'error', headers: { accept } } as RequestInit,
    close: () => agent.destroy()
  }
}

export type KeyAgent = ReturnType<typeof createKeyAgent>

/** What went wrong with a request for `url`, for logs, counters and the 503's description. */
export function describeFailure (err: unknown, url: string): { message: string, timedOut: boolean } {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof KeyRequestError) return { message: cause.message, timedOut: cause.timedOut }
  }
  const error = err as Error
  if (error instanceof SyntaxError) return { message: `${url} answered invalid JSON`, timedOut: false }
  // fetch rejects with a TypeError ("fetch failed") whose `cause` says why.
  if (error.cause instanceof Error) return { message: `cannot reach ${url}: ${error.cause.message}`, timedOut: false }
  return { message: error.message, timedOut: false }
}
