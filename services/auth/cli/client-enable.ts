// npm run client:enable -- <client_id>: a disabled client may get tokens again (the ones revoked
// when it was disabled stay revoked).
import { notFound, runAdminCommand } from './admin.js'
import { clientIdProblem } from '../store/clients.js'

await runAdminCommand({
  usage: 'npm run client:enable -- <client_id>',
  problem: clientIdProblem,
  action: async (_store, clientId, env, { actions, by }) => {
    const change = await actions.clients.enable(by, clientId)
    if (change === 'unknown') return notFound(`client ${clientId}`)
    console.log(change === 'done' ? `Client ${clientId} enabled.` : `Client ${clientId} is already enabled; nothing changed.`)
    return 0
  }
})
