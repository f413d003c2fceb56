// Entry point of one bench server child: builds the app named by argv[2] (a JSON ServerSpec),
// listens on loopback, reports its URL over IPC, answers memory probes, and exits when the parent
// says so or goes away, so no server outlives the bench.
import { buildTarget, type ServerSpec } from './targets.js'

export type ToChild = { type: 'memory' } | { type: 'close' }
export type FromChild =
  | { type: 'ready', url: string }
  | { type: 'memory', rss: number, heapUsed: number, gcExposed: boolean }

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

process.on('message', (message: ToChild) => {
  if (message.type === 'close') {
    close()
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
