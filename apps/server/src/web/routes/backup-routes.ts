import { InvalidInputError, isValidEmail, RETENTION_RULES } from '@aerie/core'
import type { BackupRetention } from '@aerie/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { NotFoundError } from '../../accounts/errors.ts'
import type { BackupAdmin } from '../../backup/backup-admin.ts'
import { userScope } from '../../backup/backup-admin.ts'
import { DEFAULT_SCOPE } from '../../metadata/stores.ts'
import type { BackupHoldRecord, BackupSnapshotRecord, ScrubReport } from '../../metadata/stores.ts'
import type { TeamServerApi } from '../../team-server-api.ts'
import { actorOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, emptyBody, idParams, idParamSchema } from '../schemas.ts'

const count = { type: 'integer', minimum: 0, maximum: 100_000 }
const retentionSchema = closed(Object.fromEntries(RETENTION_RULES.map(rule => [rule, count])))
const nullableRetention = { anyOf: [retentionSchema, { type: 'null' }] }
const scopeParams = closed({ scope: idParamSchema })
const holdParams = closed({ kind: { type: 'string', enum: ['user', 'device'] }, subject: idParamSchema })
const str = { type: 'string' }
const snapshotSchema = closed({
  id: str, deviceId: str, deviceName: str, user: str, root: str, paths: { type: 'array', items: str }, startedAt: str, committedAt: str,
  counters: { type: 'object', additionalProperties: { type: 'number' } }, held: { type: 'boolean' }
})
const holdSchema = closed({ kind: str, subject: str, reason: str, setBy: str, setAt: str })
const scrubSchema = closed({
  startedAt: str,
  finishedAt: str,
  checked: { type: 'integer' },
  damaged: { type: 'array', items: closed({ chunk: str, where: str, reason: str }) },
  snapshots: { type: 'array', items: closed({ id: str, deviceId: str, deviceName: str, user: str, committedAt: str, files: { type: 'array', items: str } }) },
  centralFiles: { type: 'array', items: closed({ folder: str, path: str, version: str }) },
  error: str
}, ['startedAt', 'finishedAt', 'checked', 'damaged', 'snapshots', 'centralFiles'])
const integer = { type: 'integer', minimum: 0 }
const scrubProgressSchema = closed({ startedAt: str, phase: { type: 'string', enum: ['reading', 'tracing'] }, checked: integer, total: integer, pace: integer })
const gcSchema = closed({
  startedAt: str, finishedAt: str, live: integer, chunks: integer, swept: integer, sweptBytes: integer, spared: integer,
  compacted: integer, deletedPacks: integer, freedBytes: { type: 'integer' }, skipped: str
}, ['startedAt', 'finishedAt', 'live', 'chunks', 'swept', 'sweptBytes', 'spared', 'compacted', 'deletedPacks', 'freedBytes'])

/** The running server's BackupAdmin; 404 while it is still starting. */
export function backupAdminOf (api: TeamServerApi): BackupAdmin {
  if (api.backup === undefined) throw new NotFoundError('this server does not serve endpoint backups yet (it is still starting); try again in a few seconds')
  return api.backup
}

/** Records an administrator's backup action in the audit log: who, how (session or token) and from where. */
export function backupAuditor (ctx: WebContext): (request: FastifyRequest, action: string, target: string, detail: Record<string, string | number | null>) => void {
  return (request, action, target, detail) => {
    ctx.audit.record({ actor: actorOf(request), action, target, detail: { ...detail, ...viaOf(request) }, address: request.ip }, ctx.now())
  }
}

/**
 * Endpoint backups for administrators: every device's snapshots, retention policies (per device,
 * and the default, scope `default`), legal holds on a user or device, scrub reports and garbage
 * collection. Every change is audited. A snapshot's content and restore grants:
 * backup-snapshot-routes.ts. Devices never come here: they back up and restore over
 * /aerie/backup/1.1.0.
 */
export function backupRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api } = ctx
  const backups = (): BackupAdmin => backupAdminOf(api)
  // A scope in a URL: `default`, a device id, or `user:EMAIL` (every device of that user without
  // its own). `key`: how the policy is stored; `device`: the device it names, if it names one.
  const parseScope = (scope: string): { key: string, device?: string } => {
    if (scope === 'default') return { key: DEFAULT_SCOPE }
    if (!scope.startsWith('user:')) return { key: scope, device: scope }
    const email = scope.slice('user:'.length)
    if (!isValidEmail(email)) throw new InvalidInputError(`"${email}" does not look like an email address; a user's policy is set at /backup/retention/user:EMAIL, e.g. user:ada@example.org`)
    return { key: userScope(email) }
  }
  // Applying after a change: one device's snapshots when the scope is a device, else everyone's.
  const applyAfter = ({ device }: { device?: string }): BackupSnapshotRecord[] => backups().applyRetention(device === undefined ? {} : { deviceId: device })
  const record = backupAuditor(ctx)
  const view = (s: BackupSnapshotRecord, held: boolean): object => ({
    id: s.id, deviceId: s.deviceId, deviceName: s.deviceName, user: s.user, root: s.root, paths: s.paths, startedAt: s.startedAt.toISOString(),
    committedAt: s.committedAt.toISOString(), counters: s.counters, held
  })
  const holdView = (h: BackupHoldRecord): object => ({ ...h, setAt: h.setAt.toISOString() })
  const knownDevice = (deviceId: string): void => {
    if (!api.devices().some(d => d.deviceId === deviceId)) throw new NotFoundError(`no enrolled device has the id "${deviceId}"; GET /api/v1/devices lists them`)
  }

  return async app => {
    app.get<{ Querystring: { device?: string } }>('/backup/snapshots', {
      config: { access: 'admin' },
      schema: {
        summary: 'Every device\'s backup snapshots (oldest first), or one device\'s',
        tags: ['backup'],
        querystring: closed({ device: idParamSchema }, []),
        response: responses(closed({ snapshots: { type: 'array', items: snapshotSchema } }))
      }
    }, async request => {
      const held = backups().holdTest()
      return { snapshots: backups().snapshots(request.query.device).map(s => view(s, held(s))) }
    })

    app.get<{ Params: { id: string } }>('/backup/snapshots/:id', {
      config: { access: 'admin' },
      schema: {
        summary: 'One backup snapshot',
        tags: ['backup'],
        params: idParams,
        response: responses(closed({ snapshot: snapshotSchema }))
      }
    }, async request => {
      const snapshot = backups().snapshot(request.params.id)
      if (snapshot === undefined) throw new NotFoundError(`no snapshot has the id "${request.params.id}"; GET /api/v1/backup/snapshots lists them`)
      return { snapshot: view(snapshot, backups().holdTest()(snapshot)) }
    })

    app.get('/backup/retention', {
      config: { access: 'admin' },
      schema: {
        summary: 'Every retention policy set: the default (scope default), each user\'s (scope user:EMAIL) and each device\'s own (scope: its id); a device follows its own, else its user\'s, else the default',
        tags: ['backup'],
        response: responses(closed({ policies: { type: 'array', items: closed({ scope: str, policy: retentionSchema, setBy: str, setAt: str }) } }))
      }
    }, async () => ({
      policies: backups().retentionPolicies().map(p => ({ scope: p.scope === DEFAULT_SCOPE ? 'default' : p.scope, policy: p.policy, setBy: p.setBy, setAt: p.setAt.toISOString() }))
    }))

    app.get<{ Params: { scope: string } }>('/backup/retention/:scope', {
      config: { access: 'admin' },
      schema: {
        summary: 'A device\'s retention policy (scope: its id), a user\'s (scope: user:EMAIL), or the default (scope: default); null when none is set',
        tags: ['backup'],
        params: scopeParams,
        response: responses(closed({ scope: str, policy: nullableRetention }))
      }
    }, async request => ({ scope: request.params.scope, policy: backups().retention(parseScope(request.params.scope).key) ?? null }))

    app.put<{ Params: { scope: string }, Body: BackupRetention }>('/backup/retention/:scope', {
      config: { access: 'admin' },
      schema: {
        summary: 'Set a retention policy (restic forget semantics: keep last N, and the newest snapshot of each of the last N hours/days/weeks/months); applied at once',
        tags: ['backup'],
        params: scopeParams,
        body: retentionSchema,
        response: responses(closed({ scope: str, policy: retentionSchema, forgotten: { type: 'array', items: str } }))
      }
    }, async request => {
      const { scope } = request.params
      const target = parseScope(scope)
      if (target.device !== undefined) knownDevice(target.device)
      backups().setRetention(target.key, request.body, actorOf(request))
      record(request, 'backup.retention_set', scope, { policy: JSON.stringify(request.body) })
      const forgotten = applyAfter(target)
      return { scope, policy: request.body, forgotten: forgotten.map(s => s.id) }
    })

    app.delete<{ Params: { scope: string } }>('/backup/retention/:scope', {
      config: { access: 'admin' },
      schema: {
        summary: 'Clear a device\'s own policy (it follows its user\'s or the default again), a user\'s, or the default (devices without any keep everything)',
        tags: ['backup'],
        params: scopeParams,
        response: responses(closed({ scope: str, forgotten: { type: 'array', items: str } }))
      }
    }, async request => {
      const { scope } = request.params
      const target = parseScope(scope)
      backups().setRetention(target.key, undefined, actorOf(request))
      record(request, 'backup.retention_cleared', scope, {})
      const forgotten = applyAfter(target)
      return { scope, forgotten: forgotten.map(s => s.id) }
    })

    app.post('/backup/retention/apply', {
      config: { access: 'admin' },
      schema: {
        summary: 'Apply every policy now (the server also does hourly and after each snapshot); forgets snapshot records only',
        tags: ['backup'],
        body: emptyBody,
        response: responses(closed({ forgotten: { type: 'array', items: str } }))
      }
    }, async () => ({ forgotten: backups().applyRetention().map(s => s.id) }))

    app.get('/backup/holds', {
      config: { access: 'admin' },
      schema: { summary: 'Legal holds in force', tags: ['backup'], response: responses(closed({ holds: { type: 'array', items: holdSchema } })) }
    }, async () => ({ holds: backups().holds().map(holdView) }))

    app.put<{ Params: { kind: 'user' | 'device', subject: string }, Body: { reason: string } }>('/backup/holds/:kind/:subject', {
      config: { access: 'admin' },
      schema: {
        summary: 'Put a user (by e-mail) or a device (by id) on legal hold: none of their snapshots is forgotten until it is lifted',
        tags: ['backup'],
        params: holdParams,
        body: closed({ reason: { type: 'string', minLength: 1, maxLength: 500 } }),
        response: responses(closed({ hold: holdSchema }))
      }
    }, async request => {
      const { kind, subject } = request.params
      if (kind === 'device') knownDevice(subject)
      const hold = backups().setHold(kind, subject, request.body.reason, actorOf(request))
      record(request, 'backup.hold_set', `${kind}:${hold.subject}`, { reason: hold.reason })
      return { hold: holdView(hold) }
    })

    app.delete<{ Params: { kind: 'user' | 'device', subject: string } }>('/backup/holds/:kind/:subject', {
      config: { access: 'admin' },
      schema: {
        summary: 'Lift a legal hold; retention then applies to their snapshots again (at once)',
        tags: ['backup'],
        params: holdParams,
        response: responses(closed({ forgotten: { type: 'array', items: str } }))
      }
    }, async request => {
      const { kind, subject } = request.params
      if (!backups().liftHold(kind, subject)) throw new NotFoundError(`there is no hold on ${kind} "${subject}"; GET /api/v1/backup/holds lists them`)
      record(request, 'backup.hold_lifted', `${kind}:${kind === 'user' ? subject.toLowerCase() : subject}`, {})
      return { forgotten: backups().applyRetention().map(s => s.id) }
    })

    app.get('/backup/scrub', {
      config: { access: 'admin' },
      schema: {
        summary: 'The last scrub\'s report (null before the first), and how far the running scrub is (null when none runs)',
        tags: ['backup'],
        response: responses(closed({ report: { anyOf: [scrubSchema, { type: 'null' }] }, running: { anyOf: [scrubProgressSchema, { type: 'null' }] } }))
      }
    }, async () => ({ report: backups().lastScrub() ?? null, running: backups().scrubProgress() ?? null }))

    app.post('/backup/scrub', {
      config: { access: 'admin' },
      schema: {
        summary: 'Scrub now: read back every chunk, and name the snapshots and central-copy files that need a damaged one (answers when done)',
        tags: ['backup'],
        body: emptyBody,
        response: responses(closed({ report: scrubSchema }))
      }
    }, async request => {
      record(request, 'backup.scrub_requested', 'store', {})
      const report: ScrubReport = await backups().scrub()
      return { report }
    })

    app.get('/backup/space', {
      config: { access: 'admin' },
      schema: {
        summary: 'What the chunk store holds (chunks, their bytes once each, the bytes their packs take), its disk\'s room (free, total, and the share the store keeps free: backups are refused below it), and since when backups have been refused for want of space',
        tags: ['backup'],
        response: responses(closed({
          store: closed({ chunks: integer, uniqueBytes: integer, storedBytes: integer }),
          disk: closed({ free: integer, total: integer, kept: integer }),
          fullSince: { anyOf: [str, { type: 'null' }] }
        }))
      }
    }, async () => await backups().space())

    app.get('/backup/gc', {
      config: { access: 'admin' },
      schema: { summary: 'The last garbage collection\'s report since the server started (null before the first)', tags: ['backup'], response: responses(closed({ report: { anyOf: [gcSchema, { type: 'null' }] } })) }
    }, async () => ({ report: backups().lastGc() ?? null }))

    app.post('/backup/gc', {
      config: { access: 'admin' },
      schema: {
        summary: 'Collect garbage now: free the chunks no snapshot, central-copy file or backup in progress needs, and compact packs (answers when done)',
        tags: ['backup'],
        body: emptyBody,
        response: responses(closed({ report: gcSchema }))
      }
    }, async request => {
      record(request, 'backup.gc_requested', 'store', {})
      return { report: await backups().collectGarbage() }
    })
  }
}
