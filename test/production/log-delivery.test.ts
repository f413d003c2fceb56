// The asynchronous log destination loses nothing: every line logged before a SIGTERM, a fatal
// error or a normal exit reaches stdout, followed by the line about the shutdown.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { childProcessEnv } from '../helper.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/log-burst.ts', import.meta.url))
const LINES = 20_000

interface Line { msg?: string, line?: number, signal?: string, err?: { message?: string } }

function runBurst (mode: string): Promise<{ code: number | null, lines: Line[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, String(LINES)], { env: childProcessEnv() })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.resume()
    child.on('close', (code) => resolve({ code, lines: stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line) }))
  })
}

function burstCount (lines: Line[]): number {
  return new Set(lines.filter((line) => line.msg === 'burst').map((line) => line.line)).size
}

t.test('SIGTERM: every line logged before it is written, then "closing", exit 0', async (t) => {
  const { code, lines } = await runBurst('sigterm')
  t.equal(burstCount(lines), LINES, `all ${LINES} lines`)
  t.match(lines.at(-1), { msg: 'closing', signal: 'SIGTERM' })
  t.equal(code, 0)
})

t.test('a fatal error: every line, then the error, exit 1', async (t) => {
  const { code, lines } = await runBurst('fatal')
  t.equal(burstCount(lines), LINES, `all ${LINES} lines`)
  t.match(lines.at(-1), { msg: 'closing after an error', err: { message: 'fatal in the burst fixture' } })
  t.equal(code, 1)
})

t.test('a normal exit (nothing left to run): every line, exit 0', async (t) => {
  const { code, lines } = await runBurst('exit')
  t.equal(burstCount(lines), LINES, `all ${LINES} lines`)
  t.equal(code, 0)
})
