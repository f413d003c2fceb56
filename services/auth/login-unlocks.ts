// `npm run user:unlock -- <username>` runs in another process, and throttling state may live in
// this one (no REDIS_URL, or Redis down): the CLI records the unlock in the database, and every
// replica reads the new ones once a second and forgets that username's counts. A refused login
// reads them at once too (at most once per CATCH_UP_MS), so a login right after the CLI is not
// refused for what it just cleared.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const POLL_MS = 1000
const CATCH_UP_MS = 100

async function loginUnlocksPlugin (fastify: FastifyInstance) {
  const unlocks = fastify.store.loginUnlocks
  /** The newest unlock applied; undefined until it is known (unlocks made before this process started are not applied). */
  let cursor: number | undefined
  let polling: Promise<boolean> | undefined
  let lastPoll = 0
  let failing = false

  async function applyNew (): Promise<boolean> {
    lastPoll = Date.now()
    if (cursor === undefined) {
      cursor = await unlocks.newest()
      return false
    }
    const rows = await unlocks.after(cursor)
    for (const row of rows) {
      await fastify.loginThrottle.unlock(row.username)
      cursor = row.id
    }
    return rows.length > 0
  }

  /** Applies the unlocks not applied yet; true if there were any. Never rejects: a failure is logged once. */
  function poll (): Promise<boolean> {
    polling ??= applyNew().then((applied) => {
      failing = false
      return applied
    }, (err: Error) => {
      if (!failing) fastify.log.warn({ err: err.message }, 'login unlocks not read; retrying')
      failing = true
      return false
    }).finally(() => { polling = undefined })
    return polling
  }

  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    await poll()
    timer = setInterval(poll, POLL_MS).unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await polling
  })
  fastify.decorate('loginUnlocks', {
    /** Before refusing a login: true if an unlock not applied yet was found (and applied), so the attempt may be admitted again. */
    catchUp: (): Promise<boolean> => Date.now() - lastPoll < CATCH_UP_MS ? Promise.resolve(false) : poll()
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    loginUnlocks: { catchUp (): Promise<boolean> }
  }
}

export default fp(loginUnlocksPlugin, { name: 'login-unlocks', fastify: '5.x', dependencies: ['store', 'throttle'] })
