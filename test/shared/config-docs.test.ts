// The README's configuration tables and .env.example say what the env schemas say.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Type } from '@sinclair/typebox'
import { AuthEnvSchema } from '../../services/auth/config.js'
import { ResourceEnvSchema } from '../../services/resource/config.js'
import { configTable, withConfigTable } from '../../services/shared/config-docs.js'
import { runScript, testDir } from '../helper.js'
import { escapeRegExp } from '../random.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('a table row per variable: default, meaning and the allowed values', async (t) => {
  const schema = Type.Object({
    PORT: Type.Integer({ default: 3000, description: 'Port | number' }),
    MODE: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a', description: 'Mode' }),
    SECRET: Type.Optional(Type.String())
  })
  t.equal(configTable(schema), [
    '| variable | default | meaning |',
    '|---|---|---|',
    '| `PORT` | `3000` | Port \\| number |',
    '| `MODE` | `a` | Mode; one of `a`, `b` |',
    '| `SECRET` | unset |  |'
  ].join('\n'))
  t.equal(withConfigTable('x <!-- config:t -->old<!-- /config:t --> y', 't', 'new'), 'x <!-- config:t -->\nnew\n<!-- /config:t --> y')
  t.throws(() => withConfigTable('no markers', 't', 'new'), /README has no <!-- config:t --> … <!-- \/config:t --> section/)
  t.throws(() => withConfigTable('<!-- /config:t --> <!-- config:t -->', 't', 'new'), /README has no/, 'markers in the wrong order')
})

t.test('every variable of both services is described, in the README and in .env.example', async (t) => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  for (const schema of [AuthEnvSchema, ResourceEnvSchema]) {
    for (const [name, property] of Object.entries(schema.properties)) {
      t.ok(property.description, `${name} has a description`)
      t.match(example, new RegExp(`^# ${escapeRegExp(name)}=`, 'm'), `.env.example lists ${name}`)
    }
  }
  t.ok(readme.includes(configTable(AuthEnvSchema)), 'the auth table is in the README')
  t.ok(readme.includes(configTable(ResourceEnvSchema)), 'the resource table is in the README')
})

t.test('npm run docs:config writes the tables; with --check it only says when they drifted', async (t) => {
  // runScript runs it without coverage: the child loads the config modules through tsx, and its coverage would be merged over ours.
  const cli = (...args: string[]) => runScript('services/config-docs.ts', args)
  const upToDate = cli('--check')
  t.same({ status: upToDate.status, stdout: upToDate.stdout, stderr: upToDate.stderr }, { status: 0, stdout: '', stderr: '' }, 'this README is up to date')

  const copy = join(testDir(t), 'README.md')
  writeFileSync(copy, readme.replace(/^\| `AUTH_PORT` .*$/m, '| `AUTH_PORT` | `80` | an old row |'))
  const drifted = cli('--check', copy)
  t.equal(drifted.status, 1)
  t.match(drifted.stderr, 'the configuration tables differ from the env schemas; run `npm run docs:config`')
  cli(copy)
  t.equal(readFileSync(copy, 'utf8'), readme, 'rewritten from the schemas')
})
