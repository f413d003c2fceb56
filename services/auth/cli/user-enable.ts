// npm run user:enable -- <username>: the user may log in again (revoked sessions stay revoked).
import { notFound, runAdminCommand } from './admin.js'

await runAdminCommand('npm run user:enable -- <username>', async (store, username) => {
  if (!await store.userAdmin.enable(username)) return notFound(`user ${username}`)
  console.log(`User ${username} enabled; they may log in again.`)
  return 0
})
