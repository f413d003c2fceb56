// `npm test`: tap over every suite. With PostgreSQL and Redis configured (TEST_DATABASE_URL and
// TEST_REDIS_URL, as .ci/run sets them), every suite runs and tap enforces 100% coverage. Without
// them, on a newcomer's machine, the suites that need them are skipped and say why, and coverage
// is reported but not enforced: the code they cover did not run. Under CI nothing is relaxed, and
// the suites fail on a missing service.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { SERVICES } from './services.js'

const missing = Object.values(SERVICES).filter((service) => !process.env[service.variable])
const relaxed = missing.length > 0 && !process.env.CI
const note = relaxed
  ? `${missing.map((service) => service.variable).join(' and ')} not set: the ${missing.map((service) => service.name).join(' and ')} ` +
    'tests are skipped and coverage is not enforced. To run everything: ' +
    missing.map((service) => `${service.variable}=${service.example}`).join(' ') + ' npm test'
  : undefined

if (note) console.log(`${note}\n`)
const tapBin = join(dirname(createRequire(import.meta.url).resolve('tap/package.json')), 'dist/esm/run.mjs')
const result = spawnSync(process.execPath, [tapBin, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...(relaxed && { TAP_ALLOW_INCOMPLETE_COVERAGE: '1' }) }
})
if (note) console.log(`\n${note}`)
process.exit(result.status ?? 1)
