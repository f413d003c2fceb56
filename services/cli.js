// npm run user:add, keys:rotate, … (`node services/cli.js auth/cli/user-add -- args`): a CLI of
// services/. In development (tsx installed) its TypeScript source, through tsx, so a stale build is
// never what runs; in a production install (`npm ci --omit=dev` over a built tree: no tsx) its
// compiled JavaScript in dist/, on plain node. Plain JS on purpose, as start.js: it must run before
// anything is compiled. `node dist/services/auth/cli/user-add.js` runs a compiled CLI directly.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const [script, ...args] = process.argv.slice(2)
if (!/^[a-z-]+(\/[a-z-]+)*$/.test(script ?? '')) {
  console.error('usage: node services/cli.js <path under services/, without extension> [arguments]')
  process.exit(2)
}

function tsxInstalled () {
  try {
    import.meta.resolve('tsx')
    return true
  } catch {
    return false
  }
}

const source = fileURLToPath(new URL(`./${script}.ts`, import.meta.url))
const compiled = fileURLToPath(new URL(`../dist/services/${script}.js`, import.meta.url))
if (existsSync(source) && tsxInstalled()) {
  const { status, signal } = spawnSync(process.execPath, ['--import', 'tsx', source, ...args], { stdio: 'inherit' })
  process.exit(status ?? (signal ? 1 : 0))
}
if (!existsSync(compiled)) {
  console.error(`No build of ${script} (dist/services/${script}.js), and no tsx to run its source: run \`npm run build\``)
  process.exit(1)
}
// The CLI reads its arguments from process.argv, as if it had been started directly.
process.argv = [process.argv[0], compiled, ...args]
await import(new URL(`../dist/services/${script}.js`, import.meta.url).href)
