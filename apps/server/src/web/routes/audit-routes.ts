import type { FastifyPluginAsync } from 'fastify'
import { actorOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { auditEntrySchema, closed, emptyBody } from '../schemas.ts'

interface AuditQuery { action?: string, actor?: string, since?: string, until?: string, before?: string, limit?: string }

/** The audit log (administrators only): entries newest first with filters, and a walk of the hash chain. */
export function auditRoutes (ctx: WebContext): FastifyPluginAsync {
  return async app => {
    app.get<{ Querystring: AuditQuery }>('/audit', {
      config: { access: 'admin' },
      schema: {
        summary: 'Audit entries, newest first; page back with `before` (the last entry\'s seq)',
        tags: ['audit'],
        querystring: closed({
          action: { type: 'string', minLength: 1, maxLength: 64 },
          actor: { type: 'string', minLength: 1, maxLength: 254 },
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
          before: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
          limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' }
        }, []),
        response: responses(closed({ entries: { type: 'array', items: auditEntrySchema }, more: { type: 'boolean' } }))
      }
    }, async request => {
      const q = request.query
      const limit = Math.min(Number(q.limit ?? 100), 500)
      const entries = ctx.audit.list({
        limit: limit + 1,
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.actor === undefined ? {} : { actor: q.actor }),
        ...(q.since === undefined ? {} : { since: new Date(q.since) }),
        ...(q.until === undefined ? {} : { until: new Date(q.until) }),
        ...(q.before === undefined ? {} : { beforeSeq: Number(q.before) })
      })
      return { entries: entries.slice(0, limit), more: entries.length > limit }
    })

    app.post('/audit/verify', {
      config: { access: 'admin' },
      schema: {
        summary: 'Walk the hash chain: any edited, deleted or reordered entry is named (the first one found)',
        tags: ['audit'],
        body: emptyBody,
        response: responses(closed({
          ok: { type: 'boolean' },
          entries: { type: 'integer' },
          head: closed({ seq: { type: 'integer' }, hash: { type: 'string' } }),
          firstBroken: closed({ seq: { type: 'integer' }, reason: { type: 'string' } })
        }, ['ok', 'entries']))
      }
    }, async request => {
      const result = ctx.audit.verify()
      ctx.audit.record({
        actor: actorOf(request),
        action: 'audit.verified',
        target: 'audit log',
        detail: { ok: result.ok, entries: result.entries, ...(result.ok ? {} : { firstBroken: result.firstBroken.seq }), ...viaOf(request) },
        address: request.ip
      }, ctx.now())
      return result
    })
  }
}
