// The audit trail: one append-only row per admin change and per authentication event. Rows are
// only inserted, read and, past the retention, deleted (purgeOlderThan). What goes in is chosen by
// the caller (audit-trail.ts); `detail` must never hold a password, secret or token.
import type { Kysely, Selectable } from 'kysely'
import type { AuditEventsTable, Database } from './tables.js'

export interface AuditInput {
  actor: string
  action: string
  target: string
  ip: string
  outcome: AuditEventsTable['outcome']
  detail?: Record<string, string | number | boolean | string[]>
}

export interface AuditEvent extends Omit<AuditInput, 'detail'> {
  id: number
  at: string
  detail: Record<string, unknown>
}

export interface AuditQuery {
  actor?: string
  target?: string
  action?: string
  /** ISO dates: at >= since, at < until. */
  since?: string
  until?: string
  /** Paging, newest first: events with id < before. */
  before?: number
  limit: number
}

const toEvent = (row: Selectable<AuditEventsTable>): AuditEvent => ({
  id: Number(row.id),
  at: row.at,
  actor: row.actor,
  action: row.action,
  target: row.target,
  ip: row.ip,
  outcome: row.outcome,
  detail: JSON.parse(row.detail) as Record<string, unknown>
})

export function createAuditRepository (db: Kysely<Database>) {
  return {
    async record (event: AuditInput, now = new Date()): Promise<void> {
      const { detail, ...fields } = event
      await db.insertInto('audit_events').values({ ...fields, at: now.toISOString(), detail: JSON.stringify(detail ?? {}) }).execute()
    },

    /** Events matching every filter given, newest first. */
    async list (query: AuditQuery): Promise<AuditEvent[]> {
      let select = db.selectFrom('audit_events').selectAll()
      if (query.actor !== undefined) select = select.where('actor', '=', query.actor)
      if (query.target !== undefined) select = select.where('target', '=', query.target)
      if (query.action !== undefined) select = select.where('action', '=', query.action)
      if (query.since !== undefined) select = select.where('at', '>=', query.since)
      if (query.until !== undefined) select = select.where('at', '<', query.until)
      if (query.before !== undefined) select = select.where('id', '<', query.before)
      const rows = await select.orderBy('id', 'desc').limit(query.limit).execute()
      return rows.map(toEvent)
    },

    /** Deletes events older than `date`; how many. */
    async purgeOlderThan (date: Date): Promise<number> {
      const result = await db.deleteFrom('audit_events').where('at', '<', date.toISOString()).executeTakeFirst()
      return Number(result.numDeletedRows)
    }
  }
}

export type AuditRepository = ReturnType<typeof createAuditRepository>
