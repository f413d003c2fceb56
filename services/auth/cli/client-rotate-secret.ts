// npm run client:rotate-secret -- <client_id>: a new secret, printed once on the last line (only
// its hash is stored); the old secret stops working and the tokens it obtained are revoked.
import { notFound, runAdminCommand } from './admin.js'
import { clientIdProblem } from '../store/clients.js'

await runAdminCommand({
  usage: 'npm run client:rotate-secret -- <client_id>',
  problem: clientIdProblem,
  action: async (_store, clientId, env, { actions, by }) => {
    const rotated = await actions.clients.rotateSecret(by, clientId)
    if (!rotated) return notFound(`client ${clientId}`)
    console.log(`Client ${clientId}: new secret; the old one no longer works and its tokens are revoked. The new secret (shown once, store it now):\n${rotated.clientSecret}`)
    return 0
  }
})
