// One load run with autocannon, summarised as req/s, p50, p99, errors and non-2xx.
import type { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'

export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Requests autocannon cycles through (tokens, random kids); overrides method/headers/body. */
  requests?: autocannon.Request[]
  connections: number
  /** Seconds; ignored when `amount` is set. */
  duration?: number
  amount?: number
  /** Requests per second over all connections (a probe, not a flood). */
  overallRate?: number
}

export interface LoadResult {
  rps: number
  /** Milliseconds, from every response's own timing (autocannon's histograms keep whole ms). */
  p50: number
  p99: number
  errors: number
  non2xx: number
  requests: number
}

/** The `q` quantile (0..1) of `sorted`, nearest rank. */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export function runLoad (options: LoadOptions): Promise<LoadResult> {
  // Latencies are kept as floats here: at sub-millisecond latencies autocannon's whole-ms p50 and
  // p99 would read 0 or 1 and hide a 3x change.
  const latencies: number[] = []
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: options.url,
      method: options.method ?? 'GET',
      headers: options.headers,
      body: options.body,
      requests: options.requests,
      connections: options.connections,
      pipelining: 1,
      duration: options.duration ?? 5,
      amount: options.amount,
      overallRate: options.overallRate,
      timeout: 10
    }, (err, result) => {
      if (err) return reject(err)
      const sorted = Float64Array.from(latencies).sort()
      resolve({
        // Wall time: autocannon's own `duration` is whole seconds, too coarse for `amount` runs.
        rps: result.requests.total / ((performance.now() - start) / 1000),
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        errors: result.errors,
        non2xx: result.non2xx,
        requests: result.requests.total
      })
    })
    // The client argument is missing from @types/autocannon's signature of this event.
    const onResponse = (client: unknown, statusCode: number, bytes: number, responseTime: number) => {
      latencies.push(responseTime)
    }
    ;(instance as unknown as EventEmitter).on('response', onResponse)
  })
}
