// npm run start:auth / start:resource: a service's compiled JavaScript on plain node, no TypeScript
// loader (npm run build makes dist/). Without a build it says so in one line, not a module stack.
// Plain JS on purpose: it must run before anything is compiled.
import { existsSync } from 'node:fs'

const SERVICES = ['auth', 'resource']
const service = process.argv[2]
if (!SERVICES.includes(service)) {
  console.error(`usage: node services/start.js ${SERVICES.join('|')}`)
  process.exit(1)
}
const entry = new URL(`../dist/services/${service}/server.js`, import.meta.url)
if (!existsSync(entry)) {
  console.error(`No build of the ${service} service (dist/services/${service}/server.js): run \`npm run build\`, then \`npm run start:${service}\``)
  process.exit(1)
}
await import(entry.href)
