// npm run client:delete -- <client_id>: deletes the client and revokes its tokens.
import { notFound, runAdminCommand } from './admin.js'
import { clientIdProblem } from '../store/clients.js'

await runAdminCommand({
  usage: 'npm run client:delete -- <client_id>',
  problem: clientIdProblem,
  action: async (_store, clientId, env, { actions, by }) => {
    if (!await actions.clients.remove(by, clientId)) return notFound(`client ${clientId}`)
    console.log(`Client ${clientId} deleted; its tokens are revoked.`)
    return 0
  }
})
