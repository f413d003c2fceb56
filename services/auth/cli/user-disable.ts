// npm run user:disable -- <username>: the user can no longer log in or refresh, and every session
// is revoked: its access tokens are refused by every verifier that follows the revocation feed.
import { notFound, runAdminCommand, sessions } from './admin.js'
import { usernameProblem } from '../store/users.js'

await runAdminCommand({
  usage: 'npm run user:disable -- <username>',
  problem: usernameProblem,
  action: async (_store, username, env, { actions, by }) => {
    const result = await actions.users.disable(by, username)
    if (!result) return notFound(`user ${username}`)
    console.log(`User ${username} disabled; ${sessions(result.sessions)} revoked.`)
    return 0
  }
})
