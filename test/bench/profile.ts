// Summarises a V8 .cpuprofile (node --cpu-prof) as the functions and packages with the most self
// time, so a missed target comes with what the server spent its core on.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
}

interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[] }

/** Where a frame's code comes from: a package, our code, node itself, or V8's own buckets. */
function origin (url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:')) return 'node core'
  return 'fastify-ssot'
}

function shortUrl (url: string): string {
  const pkg = /node_modules\/(.*)$/.exec(url)
  return pkg ? pkg[1]! : url.replace(/^file:\/\/.*?\/(plugins|services|test)\//, '$1/')
}

function top (counts: Map<string, number>, total: number, limit: number): string[] {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, hits]) => `${(100 * hits / total).toFixed(1).padStart(5)}%  ${name}`)
}

/** The top self-time frames and packages of `path`, as printable lines. */
export async function summariseProfile (path: string, limit = 15): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
  const byFrame = new Map<string, number>()
  const byOrigin = new Map<string, number>()
  let busy = 0
  let idle = 0
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0
    const { functionName, url, lineNumber } = node.callFrame
    // Idle is the server waiting for requests (or for the targets of other children): left out.
    if (hits === 0 || (url === '' && functionName === '(idle)')) {
      idle += hits
      continue
    }
    const frame = url ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}` : `(${functionName.replace(/[()]/g, '')})`
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits)
    const from = origin(url, functionName)
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + hits)
    busy += hits
  }
  return [
    `  busy ${busy} samples (idle ${idle} left out); self time by origin:`, ...top(byOrigin, busy, 10).map((line) => `    ${line}`),
    '  top frames by self time:', ...top(byFrame, busy, limit).map((line) => `    ${line}`)
  ].join('\n')
}

/**
 * The main thread's profile in `dir`: --cpu-prof writes one file per thread, and under tsx the
 * module loader runs in a thread of its own. Names are CPU.<date>.<time>.<pid>.<thread id>.<seq>.
 */
export async function mainThreadProfile (dir: string): Promise<string | undefined> {
  const files = (await readdir(dir).catch(() => [])).filter((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file))
  return files.length > 0 ? join(dir, files.sort().at(-1)!) : undefined
}
