// npm run docs:config: writes the README's configuration tables from the env schemas.
// `-- --check` changes nothing and exits 1 when the README differs (the test suite runs that).
// A path argument names another README (the tests use a copy); by default, the README.md of the
// folder it runs in (npm runs it at the repository's root). It reads both services' schemas, so
// it lives above them, not in services/shared, which both services build on.
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { AuthEnvSchema } from './auth/config.js'
import { ResourceEnvSchema } from './resource/config.js'
import { configTable, withConfigTable } from './shared/config-docs.js'

const args = process.argv.slice(2)
const check = args.includes('--check')
const path = resolve(args.find((arg) => arg !== '--check') ?? 'README.md')
const readme = readFileSync(path, 'utf8')
const expected = withConfigTable(withConfigTable(readme, 'auth', configTable(AuthEnvSchema)), 'resource', configTable(ResourceEnvSchema))

if (!check) {
  writeFileSync(path, expected)
} else if (expected !== readme) {
  console.error(`${path}: the configuration tables differ from the env schemas; run \`npm run docs:config\``)
  process.exitCode = 1
}
