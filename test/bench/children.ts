// Starts each server under test in its own Node process, so the load generator (this process)
// never shares an event loop or a core's time slice with the server it measures.
import { fork, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FromChild, ToChild } from './server.js'
import type { ServerSpec } from './targets.js'

const SERVER_ENTRY = fileURLToPath(new URL('./server.ts', import.meta.url))
// Several children start at once, each compiling its TypeScript through tsx: on a machine shared
// with other work that took more than 30 s.
const START_TIMEOUT_MS = 120_000

export interface ServerChild {
  name: string
  url: string
  /** RSS and heapUsed in bytes, after two full GCs when the child runs with --expose-gc. */
  memory: () => Promise<{ rss: number, heapUsed: number, gcExposed: boolean }>
  /** Runs `work` and returns the p50 and p99 of this server's own event-loop delay meanwhile (ms). */
  loopDelayDuring: <T>(work: () => Promise<T>) => Promise<{ result: T, loopDelay: { p50: number, p99: number } }>
  close: () => Promise<void>
}

export interface ChildOptions {
  exposeGc?: boolean
  /** Folder for --cpu-prof profiles of this child (one per thread), written when it exits. */
  profileDir?: string
  /** Where the child's stdout (its log lines) goes: `<logDir>/<name>.log`; else inherited. */
  logDir?: string
}

function nextMessage<T extends FromChild['type']> (child: ChildProcess, type: T, name: string): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench server ${name}: no "${type}" within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
    const onExit = (code: number | null) => reject(new Error(`bench server ${name} exited (${code}) before "${type}"`))
    const onMessage = (message: FromChild) => {
      if (message.type !== type) return
      clearTimeout(timer)
      child.off('message', onMessage).off('exit', onExit)
      resolve(message as Extract<FromChild, { type: T }>)
    }
    child.on('message', onMessage).once('exit', onExit)
  })
}

/** Forks server.ts through tsx for `spec` and waits until it listens. */
export async function startServer (name: string, spec: ServerSpec, options: ChildOptions = {}): Promise<ServerChild> {
  const execArgv = ['--import', 'tsx']
  if (options.exposeGc) execArgv.push('--expose-gc')
  if (options.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, name)}`)
  const out = options.logDir ? openSync(join(options.logDir, `${name}.log`), 'w') : 'inherit'
  const child = fork(SERVER_ENTRY, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', out, 'inherit', 'ipc'] })
  if (typeof out === 'number') closeSync(out)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const send = (message: ToChild) => child.send(message)
  try {
    const { url } = await nextMessage(child, 'ready', name)
    return {
      name,
      url,
      async memory () {
        const answer = nextMessage(child, 'memory', name)
        send({ type: 'memory' })
        return answer
      },
      async loopDelayDuring (work) {
        const started = nextMessage(child, 'loop-delay-started', name)
        send({ type: 'loop-delay-start' })
        await started
        const result = await work()
        const answer = nextMessage(child, 'loop-delay', name)
        send({ type: 'loop-delay' })
        const { p50, p99 } = await answer
        return { result, loopDelay: { p50, p99 } }
      },
      async close () {
        if (child.exitCode === null && child.connected) send({ type: 'close' })
        await exited
      }
    }
  } catch (err) {
    child.kill()
    throw err
  }
}
