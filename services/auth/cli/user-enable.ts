// npm run user:enable -- <username>: the user may log in again (revoked sessions stay revoked).
import { notFound, runAdminCommand } from './admin.js'
import { usernameProblem } from '../store/users.js'

await runAdminCommand({
  usage: 'npm run user:enable -- <username>',
  problem: usernameProblem,
  action: async (_store, username, env, { actions, by }) => {
    if (!await actions.users.enable(by, username)) return notFound(`user ${username}`)
    console.log(`User ${username} enabled; they may log in again.`)
    return 0
  }
})
