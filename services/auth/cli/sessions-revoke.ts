// npm run sessions:revoke -- <username>: ends every session of the user (refresh tokens and the
// access tokens they issued) without disabling them: they may log in again.
import { notFound, runAdminCommand, sessions } from './admin.js'
import { usernameProblem } from '../store/users.js'

await runAdminCommand({
  usage: 'npm run sessions:revoke -- <username>',
  problem: usernameProblem,
  action: async (_store, username, env, { actions, by }) => {
    const result = await actions.users.revokeSessions(by, username)
    if (!result) return notFound(`user ${username}`)
    console.log(`${sessions(result.sessions)} of ${username} revoked.`)
    return 0
  }
})
