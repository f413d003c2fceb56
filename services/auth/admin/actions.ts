// Every change an operator makes, for the CLIs and the admin API alike: the store does the work
// (user-admin.ts, client-admin.ts, clients.ts, the key ring) and each change that happened is
// one audit event, with who asked and from where. Nothing secret is recorded: a new password or
// client secret is returned to the caller, never written to the trail.
import { hashPassword } from '../passwords.js'
import type { AuditInput } from '../store/audit.js'
import type { NewClient } from '../store/clients.js'
import type { Store } from '../store/index.js'
import { normaliseUsername } from '../store/users.js'

/** Who asks: a username (the admin API) or `cli:<os user>`; and their address (`local` for a CLI). */
export interface Actor {
  actor: string
  ip: string
}

/** The actor of what the service does on its own (automatic key rotation). */
export const SYSTEM_ACTOR: Actor = { actor: 'system', ip: 'local' }

interface Rotation { active: { kid: string }, retired: { kid: string }, next: { kid: string } }

export function createAdminActions (store: Store) {
  const audit = (by: Actor, action: string, target: string, detail?: AuditInput['detail']) =>
    store.audit.record({ ...by, action, target, outcome: 'success', ...(detail && { detail }) })
  const recordRotation = (by: Actor, result: Rotation, force: boolean) =>
    audit(by, 'keys.rotate', result.active.kid, { active: result.active.kid, retired: result.retired.kid, next: result.next.kid, force })

  /** Records `action` on `target` when `result` says something changed (not: undefined, false, `unknown`, `unchanged`); returns `result`. */
  async function recorded<T> (by: Actor, action: string, target: string, result: T, detail?: (result: NonNullable<T>) => AuditInput['detail']): Promise<T> {
    const changed = result !== undefined && result !== false && result !== 'unknown' && result !== 'unchanged'
    if (changed) await audit(by, action, target, detail?.(result as NonNullable<T>))
    return result
  }

  return {
    users: {
      async create (by: Actor, input: { username: string, password: string, roles: string[], temporary: boolean }): Promise<boolean> {
        if (await store.users.findByUsername(input.username)) return false
        const user = await store.users.create({ username: input.username, passwordHash: await hashPassword(input.password), roles: input.roles })
        if (input.temporary) await store.userAdmin.setPassword(user.username, user.password_hash, true)
        await audit(by, 'user.create', user.username, { roles: input.roles, temporary: input.temporary })
        return true
      },
      disable: async (by: Actor, username: string) =>
        recorded(by, 'user.disable', normaliseUsername(username), await store.userAdmin.disable(username), (r) => ({ sessions: r.sessions })),
      enable: async (by: Actor, username: string) =>
        recorded(by, 'user.enable', normaliseUsername(username), await store.userAdmin.enable(username)),
      revokeSessions: async (by: Actor, username: string) =>
        recorded(by, 'user.sessions.revoke', normaliseUsername(username), await store.userAdmin.revokeSessions(username), (r) => ({ sessions: r.sessions })),
      revokeSession: async (by: Actor, username: string, sessionId: string) =>
        recorded(by, 'user.session.revoke', normaliseUsername(username), await store.userAdmin.revokeSession(username, sessionId), () => ({ session: sessionId })),
      async setPassword (by: Actor, username: string, password: string, temporary: boolean) {
        const result = await store.userAdmin.setPassword(username, await hashPassword(password), temporary)
        return recorded(by, 'user.password.set', normaliseUsername(username), result, (r) => ({ temporary, sessions: r.sessions }))
      },
      setRoles: async (by: Actor, username: string, roles: string[]) =>
        recorded(by, 'user.roles.set', normaliseUsername(username), await store.userAdmin.setRoles(username, roles), () => ({ roles })),
      remove: async (by: Actor, username: string) =>
        recorded(by, 'user.delete', normaliseUsername(username), await store.userAdmin.remove(username)),
      /**
       * Clears the user's login throttling: recorded for every replica (each forgets its own counts
       * within a second), then `clearNow` (this process's counts and Redis). False for an unknown user.
       */
      async unlock (by: Actor, username: string, clearNow: (username: string) => Promise<void>): Promise<boolean> {
        if (!await store.users.findByUsername(username)) return false
        await store.loginUnlocks.record(username)
        await audit(by, 'user.unlock', normaliseUsername(username))
        await clearNow(username)
        return true
      }
    },

    clients: {
      /** The new client's secret (shown once, stored as a hash); none for a public client. */
      async create (by: Actor, input: NewClient): Promise<{ clientSecret: string | undefined }> {
        const { clientSecret } = await store.clients.create(input)
        await audit(by, 'client.create', input.clientId, {
          scopes: input.scopes, audiences: input.audiences, redirectUris: input.redirectUris ?? [], public: input.public === true
        })
        return { clientSecret }
      },
      disable: async (by: Actor, clientId: string) => recorded(by, 'client.disable', clientId, await store.clientAdmin.disable(clientId)),
      enable: async (by: Actor, clientId: string) => recorded(by, 'client.enable', clientId, await store.clientAdmin.enable(clientId)),
      remove: async (by: Actor, clientId: string) => recorded(by, 'client.delete', clientId, await store.clientAdmin.remove(clientId)),
      rotateSecret: async (by: Actor, clientId: string) => recorded(by, 'client.secret.rotate', clientId, await store.clientAdmin.rotateSecret(clientId))
    },

    keys: {
      /** Runs `rotate` (the running issuer's, or a CLI's ring) and records the kids it produced. */
      async rotate<R extends Rotation> (by: Actor, rotate: () => Promise<R>, force: boolean): Promise<R> {
        const result = await rotate()
        await recordRotation(by, result, force)
        return result
      },
      /** Records a rotation that happened already (the issuer's automatic rotation, by SYSTEM_ACTOR). */
      rotated: (by: Actor, result: Rotation) => recordRotation(by, result, false),
      /** Runs `retire` (removes a retired key from the ring now) and records the key removed. */
      async retire<R extends { kid: string, createdAt: string, retiredAt?: string }> (by: Actor, retire: () => Promise<R>): Promise<R> {
        const removed = await retire()
        await audit(by, 'keys.retire', removed.kid, { createdAt: removed.createdAt, ...(removed.retiredAt && { retiredAt: removed.retiredAt }) })
        return removed
      }
    }
  }
}

export type AdminActions = ReturnType<typeof createAdminActions>

/** The operating-system user; `unknown` when there is no passwd entry for the process (some containers). */
export function osUser (userInfo: () => { username: string }): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

/** The actor of a CLI run: the operating-system user who ran it. */
export async function cliActor (): Promise<Actor> {
  const { userInfo } = await import('node:os')
  return { actor: `cli:${osUser(userInfo)}`, ip: 'local' }
}
