// npm run client:add -- <client_id> --scopes orders:read,orders:write [--audiences api-a,api-b] [--name "Billing"]
//   [--redirect-uris <uri>,… [--post-logout-redirect-uris <uri>,…] [--public]] [--dpop-required]
// Prints a confidential client's secret once, as the last line: only its hash is stored, so it
// cannot be shown again. A public client (--public: a single-page or native app) has none.
import { parseArgs } from 'node:util'
import { loadDotEnv } from '../../shared/server.js'
import { loadAuthEnv } from '../config.js'
import { cliActor, createAdminActions } from '../admin/actions.js'
import { audiencesProblem, clientIdProblem, redirectUrisProblem, scopesProblem } from '../store/clients.js'
import { createDatabase } from '../store/database.js'
import { createStore } from '../store/index.js'
import { storeOptions } from './admin.js'
import { migrateToLatest } from '../store/migrations.js'

const list = (text: string) => text.split(',').map((item) => item.trim()).filter(Boolean)

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    scopes: { type: 'string' },
    audiences: { type: 'string' },
    name: { type: 'string' },
    'redirect-uris': { type: 'string' },
    'post-logout-redirect-uris': { type: 'string' },
    public: { type: 'boolean' },
    'dpop-required': { type: 'boolean' }
  }
})
const clientId = positionals[0]
if (!clientId || positionals.length > 1 || !values.scopes) {
  console.error('usage: npm run client:add -- <client_id> --scopes a,b [--audiences x,y] [--name "A name"] ' +
    '[--redirect-uris https://app.example/callback,… [--post-logout-redirect-uris https://app.example/,…] [--public]] [--dpop-required]')
  process.exit(2)
}

loadDotEnv()
const env = loadAuthEnv(process.env)
const scopes = list(values.scopes)
const audiences = values.audiences === undefined ? [env.TOKEN_AUDIENCE] : list(values.audiences)
const redirectUris = list(values['redirect-uris'] ?? '')
const postLogoutRedirectUris = list(values['post-logout-redirect-uris'] ?? '')
const isPublic = values.public === true
// The rules /oauth/token applies; and LOGIN_CLIENT_ID is the public client of first-party logins:
// a confidential client of that name could refresh every user's session.
const problem = clientId === env.LOGIN_CLIENT_ID
  ? `${clientId} is LOGIN_CLIENT_ID, the client of first-party logins`
  : clientIdProblem(clientId) ?? scopesProblem(scopes) ?? audiencesProblem(audiences) ?? browserProblem()
/** Browser sign-in needs redirect URIs; a public client is only for browser sign-in. */
function browserProblem (): string | undefined {
  if (isPublic && redirectUris.length === 0) return '--public needs --redirect-uris (a public client signs users in through the browser)'
  if (postLogoutRedirectUris.length > 0 && redirectUris.length === 0) return '--post-logout-redirect-uris needs --redirect-uris'
  return redirectUrisProblem([...redirectUris, ...postLogoutRedirectUris])
}
if (problem) {
  console.error(`Client ${clientId} not created: ${problem}`)
  process.exit(2)
}
const db = createDatabase({ url: env.DATABASE_URL })
try {
  await migrateToLatest(db)
  const store = createStore(storeOptions(env), db)
  const { clientSecret } = await createAdminActions(store).clients.create(await cliActor(), {
    clientId,
    name: values.name ?? clientId,
    scopes,
    audiences,
    redirectUris,
    postLogoutRedirectUris,
    public: isPublic,
    dpopRequired: values['dpop-required'] === true
  })
  const dpopNote = values['dpop-required'] ? ' (every token request must carry a DPoP proof)' : ''
  if (clientSecret === undefined) console.log(`Public client ${clientId} created${dpopNote}: no secret, it proves itself with PKCE.`)
  else console.log(`Client ${clientId} created${dpopNote}. Its secret (shown once, store it now):\n${clientSecret}`)
} catch (err) {
  console.error(`Client ${clientId} not created: ${(err as Error).message}`)
  process.exitCode = 1
} finally {
  await db.destroy()
}
