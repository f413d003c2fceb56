// npm run user:unlock -- <username>: ends the wait login throttling imposes on the user (see
// README "Login throttling"): its budget, its lockout and its devices' failures are forgotten, in
// Redis (REDIS_URL) at once, and in the counts each auth replica holds itself within a second.
import { Redis } from 'ioredis'
import { REDIS_KEY_PREFIX, unlockUsername } from '../login-throttle.js'
import { redisCounters } from '../redis-counters.js'
import { usernameProblem } from '../store/users.js'
import { notFound, runAdminCommand } from './admin.js'

async function unlockInRedis (url: string, username: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null })
  // Its failures reach us through the commands; without a listener ioredis would print each one too.
  redis.on('error', () => {})
  try {
    await redis.connect()
    await unlockUsername(redisCounters(redis, REDIS_KEY_PREFIX), username)
  } catch (err) {
    const reason = (err as Error).message.replace(/\.$/, '')
    throw new Error(`Redis (REDIS_URL) did not answer: ${reason}. The unlock is recorded: every auth replica applies it within a second`)
  } finally {
    redis.disconnect()
  }
}

await runAdminCommand({
  usage: 'npm run user:unlock -- <username>',
  problem: usernameProblem,
  action: async (_store, username, env, { actions, by }) => {
    // Recorded first: the replicas forget what they count themselves, and Redis too if it is back.
    const redisUrl = env.REDIS_URL
    const unlocked = await actions.users.unlock(by, username, async (name) => { if (redisUrl) await unlockInRedis(redisUrl, name) })
    if (!unlocked) return notFound(`user ${username}`)
    console.log(`Login throttling of ${username} cleared; every auth replica forgets it within a second.`)
    return 0
  }
})
