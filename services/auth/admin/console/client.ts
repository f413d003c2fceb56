// The console's own client registration, made (or brought up to date) at every start from the
// configuration, the same way on every replica: a public client (PKCE; its tokens stay on the
// console's server side), redirect URI ADMIN_CONSOLE_URL/console/callback, audience ADMIN_AUDIENCE.
import type { Store } from '../../store/index.js'
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE } from './routes.js'

export async function ensureConsoleClient (store: Store, settings: { redirectUri: string, audience: string }): Promise<void> {
  const fields = { scopes: CONSOLE_SCOPE, audiences: settings.audience, redirect_uris: settings.redirectUri, public: 1 }
  const { numUpdatedRows } = await store.db.updateTable('clients').set(fields).where('client_id', '=', CONSOLE_CLIENT_ID).executeTakeFirst()
  if (numUpdatedRows > 0n) return
  try {
    await store.clients.create({
      clientId: CONSOLE_CLIENT_ID, name: 'Admin console', scopes: CONSOLE_SCOPE.split(' '), audiences: [settings.audience], redirectUris: [settings.redirectUri], public: true
    })
  } catch (err) {
    // Another replica created it a moment ago: it is there, with the same settings.
    if (!await store.clientAdmin.exists(CONSOLE_CLIENT_ID)) throw err
  }
}
