// `npm run dev` registers the example web app (examples/web-app, `npm run dev:web`) as a
// confidential client, and writes its secret to data/example-web-app.json (mode 0600, git-ignored)
// for the app to read. A secret lost since is replaced. Development only: never in production.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Store } from './store/index.js'

export const EXAMPLE_WEB_APP = {
  clientId: 'example-web-app',
  name: 'Example web app',
  redirectUri: 'http://127.0.0.1:3005/callback',
  postLogoutRedirectUri: 'http://127.0.0.1:3005/'
}

/** Registers the example web app unless it exists with its secret on file; says what it did. */
export async function ensureExampleWebApp (store: Store, audience: string, file = 'data/example-web-app.json'): Promise<'created' | 'rotated' | 'present'> {
  const exists = await store.db.selectFrom('clients').select('client_id').where('client_id', '=', EXAMPLE_WEB_APP.clientId).executeTakeFirst()
  const onFile = await readFile(file, 'utf8').then(() => true, () => false)
  if (exists && onFile) return 'present'
  const { clientSecret } = exists
    ? (await store.clientAdmin.rotateSecret(EXAMPLE_WEB_APP.clientId))!
    : await store.clients.create({
      clientId: EXAMPLE_WEB_APP.clientId,
      name: EXAMPLE_WEB_APP.name,
      scopes: ['openid', 'profile', 'offline_access'],
      audiences: [audience],
      redirectUris: [EXAMPLE_WEB_APP.redirectUri],
      postLogoutRedirectUris: [EXAMPLE_WEB_APP.postLogoutRedirectUri]
    })
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify({ clientId: EXAMPLE_WEB_APP.clientId, clientSecret }), { mode: 0o600 })
  await chmod(file, 0o600)
  return exists ? 'rotated' : 'created'
}
