// Entry point of one bench server child: builds the app named by argv[2] (a JSON ServerSpec),
// listens on loopback, reports its URL over IPC, answers memory probes, and exits when the parent
// says so or goes away, so no server outlives the bench.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { buildTarget, type ServerSpec } from './targets.js'

export type ToChild = { type: 'memory' } | { type: 'close' } | { type: 'loop-delay-start' } | { type: 'loop-delay' }
export type FromChild =
  | { type: 'ready', url: string }
  | { type: 'memory', rss: number, heapUsed: number, gcExposed: boolean }
  | { type: 'loop-delay-started' }
  | { type: 'loop-delay', p50: number, p99: number }

const send = (message: FromChild) => process.send?.(message)

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec
const { app, port } = await buildTarget(spec)
const url = await app.listen({ host: '127.0.0.1', port })

let closing: Promise<void> | undefined
function close (): Promise<void> {
  // process.exit after close: --cpu-prof writes its profile on a normal exit.
  closing ??= app.close().then(() => process.exit(0), () => process.exit(1))
  return closing
}

// This server's own event-loop delay over a window (1 ms resolution, which it includes: idle reads
// about 1.1 ms): what the work in this process did to its loop, apart from the load generator's.
const loopDelay = monitorEventLoopDelay({ resolution: 1 })

process.on('message', (message: ToChild) => {
  if (message.type === 'close') {
    close()
    return
  }
  if (message.type === 'loop-delay-start') {
    loopDelay.reset()
    loopDelay.enable()
    send({ type: 'loop-delay-started' })
    return
  }
  if (message.type === 'loop-delay') {
    loopDelay.disable()
    send({ type: 'loop-delay', p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6 })
    return
  }
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  const { rss, heapUsed } = process.memoryUsage()
  send({ type: 'memory', rss, heapUsed, gcExposed: gc !== undefined })
})
process.on('disconnect', () => { close() })
send({ type: 'ready', url })
