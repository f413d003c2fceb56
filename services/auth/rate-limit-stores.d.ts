// @fastify/rate-limit ships its two stores without type declarations; this is their shape.
declare module '@fastify/rate-limit/store/*.js' {
  type Callback = (err: Error | null, result: { current: number, ttl: number } | null) => void
  class Store {
    constructor (continueExceeding: boolean, exponentialBackoff: boolean, clientOrCache?: unknown, prefix?: string)
    incr (key: string, callback: Callback, timeWindow: number, max: number): void
    child (routeOptions: unknown): Store
  }
  export default Store
}
