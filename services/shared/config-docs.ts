// The README's configuration tables, written from the env schemas so the two cannot drift.
import type { TObject, TSchema } from '@sinclair/typebox'

interface EnvDoc {
  description?: string
  default?: unknown
  anyOf?: Array<{ const?: unknown }>
}

function allowedValues (schema: EnvDoc): string | undefined {
  const values = schema.anyOf?.map((member) => member.const)
  return values?.every((value) => value !== undefined) ? values.map((value) => `\`${value}\``).join(', ') : undefined
}

function row (name: string, schema: TSchema & EnvDoc): string {
  const fallback = schema.default === undefined ? 'unset' : `\`${schema.default}\``
  const values = allowedValues(schema)
  const meaning = [schema.description, values && `one of ${values}`].filter(Boolean).join('; ')
  return `| \`${name}\` | ${fallback} | ${meaning.replaceAll('|', '\\|')} |`
}

/** A Markdown table of every variable of `schema`: name, default, meaning. */
export function configTable (schema: TObject): string {
  const rows = Object.entries(schema.properties).map(([name, property]) => row(name, property as TSchema & EnvDoc))
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n')
}

/** `readme` with the text between `<!-- config:<name> -->` and `<!-- /config:<name> -->` replaced by `table`. */
export function withConfigTable (readme: string, name: string, table: string): string {
  const start = `<!-- config:${name} -->`
  const end = `<!-- /config:${name} -->`
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from === -1 || to < from) throw new Error(`README has no ${start} … ${end} section`)
  return `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`
}
