// npm run client:disable -- <client_id>: the client can no longer get tokens, and the tokens it
// holds are revoked. `npm run client:enable` lets it get tokens again.
import { notFound, runAdminCommand } from './admin.js'
import { clientIdProblem } from '../store/clients.js'

await runAdminCommand({
  usage: 'npm run client:disable -- <client_id>',
  problem: clientIdProblem,
  action: async (_store, clientId, env, { actions, by }) => {
    const change = await actions.clients.disable(by, clientId)
    if (change === 'unknown') return notFound(`client ${clientId}`)
    console.log(change === 'done' ? `Client ${clientId} disabled; its tokens are revoked.` : `Client ${clientId} is already disabled; nothing changed.`)
    return 0
  }
})
