// Turns the samples of every round into one table (median and range), the target ratios with
// PASS/MISS, and the JSON written next to them.
import type { LoadResult } from './load.js'

export type Metric = 'rps' | 'p50' | 'p99' | 'errors' | 'non2xx'
export type Sample = Partial<Record<Metric, number>>

export interface Stat { median: number, min: number, max: number }

export interface Ratio {
  name: string
  value: number
  target: string
  pass: boolean
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Collects the samples of each row, in the order rows are first seen. */
export class Samples {
  readonly rows = new Map<string, Sample[]>()

  add (row: string, sample: Sample | LoadResult): void {
    const list = this.rows.get(row) ?? []
    list.push(sample)
    this.rows.set(row, list)
  }

  stat (row: string, metric: Metric): Stat | undefined {
    const values = (this.rows.get(row) ?? []).map((sample) => sample[metric]).filter((v): v is number => v !== undefined)
    if (values.length === 0) return undefined
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
  }

  median (row: string, metric: Metric): number {
    return this.stat(row, metric)?.median ?? Number.NaN
  }

  toJSON () {
    const metrics: Metric[] = ['rps', 'p50', 'p99', 'errors', 'non2xx']
    return Object.fromEntries([...this.rows].map(([row, samples]) => [row, {
      ...Object.fromEntries(metrics.map((m) => [m, this.stat(row, m)]).filter(([, stat]) => stat !== undefined)),
      samples
    }]))
  }
}

function formatNumber (value: number, metric: Metric): string {
  if (metric === 'rps') return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)
  if (metric === 'p50' || metric === 'p99') return value < 10 ? value.toFixed(2) : value.toFixed(1)
  return String(Math.round(value))
}

function cell (stat: Stat | undefined, metric: Metric): string {
  if (!stat) return '-'
  const median = formatNumber(stat.median, metric)
  if (metric === 'errors' || metric === 'non2xx') return stat.max === 0 ? '0' : `${median} (max ${formatNumber(stat.max, metric)})`
  return stat.min === stat.max ? median : `${median} (${formatNumber(stat.min, metric)}-${formatNumber(stat.max, metric)})`
}

/** A Markdown table: median (min-max over rounds) per metric, one line per row. */
export function formatTable (samples: Samples): string {
  const header = ['target', 'req/s or ops/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'runs']
  const lines = [...samples.rows.keys()].map((row) => [
    row,
    ...(['rps', 'p50', 'p99', 'errors', 'non2xx'] as const).map((metric) => cell(samples.stat(row, metric), metric)),
    String(samples.rows.get(row)!.length)
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)))
  const render = (line: string[]) => `| ${line.map((text, i) => i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!)).join(' | ')} |`
  return [render(header), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...lines.map(render)].join('\n')
}

export function atLeast (name: string, value: number, minimum: number, unit = '×'): Ratio {
  return { name, value, target: `>= ${minimum}${unit === '×' ? '' : ' ' + unit}`, pass: value >= minimum }
}

export function atMost (name: string, value: number, maximum: number, unit: string, strict = false): Ratio {
  return { name, value, target: `${strict ? '<' : '<='} ${maximum}${unit ? ' ' + unit : ''}`, pass: strict ? value < maximum : value <= maximum }
}

export function formatRatios (ratios: Ratio[]): string {
  const width = Math.max(...ratios.map((ratio) => ratio.name.length))
  return ratios.map((ratio) => {
    const value = Number.isFinite(ratio.value) ? ratio.value.toFixed(3) : 'n/a'
    return `${ratio.pass ? 'PASS' : 'MISS'}  ${ratio.name.padEnd(width)}  ${value.padStart(8)}  (target ${ratio.target})`
  }).join('\n')
}
