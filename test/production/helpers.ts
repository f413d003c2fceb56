// Helpers of the production-readiness tests: child processes without tap's instrumentation,
// and a log stream to read back.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { SPARE_ADMIN_PORT } from '../helper.js'

export const ROOT = new URL('../../', import.meta.url).pathname

/** The environment for a child process: ours minus tap's loader and coverage hooks. */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...SPARE_ADMIN_PORT, ...extra }
  for (const name of Object.keys(env)) {
    if (name === 'NODE_OPTIONS' || name.startsWith('NODE_V8_COVERAGE') || name.startsWith('TAP') || name.startsWith('_TAPJS')) delete env[name]
  }
  return env
}

/** Runs a command to its end; resolves with its output, rejects on a non-zero exit. */
export function run (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? childEnv() })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('close', (code) => code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)))
  })
}

/** A child process whose stdout lines are kept, killed at teardown if still running. */
export function startChild (t: Test, command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { cwd, env })
  const lines: string[] = []
  let buffer = ''
  const waiters: Array<{ match: (line: string) => boolean, resolve: (line: string) => void }> = []
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString()
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return {
    child,
    lines,
    exited,
    /** Resolves with the first (next) output line containing `text`. */
    waitFor (text: string, ms = 20_000): Promise<string> {
      const seen = lines.find((line) => line.includes(text))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms:\n${lines.join('\n')}`)), ms)
        waiters.push({ match: (line) => line.includes(text), resolve: (line) => { clearTimeout(timer); resolve(line) } })
      })
    }
  }
}

/** A writable stream for a pino logger, keeping everything written to it. */
export function logCapture () {
  let text = ''
  const stream = new Writable({
    write (chunk: Buffer, encoding, callback) {
      text += chunk.toString()
      callback()
    }
  })
  return { stream, text: () => text, entries: () => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) }
}
