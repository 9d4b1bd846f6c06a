import { Readable } from 'node:stream'
import { InvalidInputError } from '@aerie/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { NotFoundError } from '../../accounts/errors.ts'
import type { BackupAdmin } from '../../backup/backup-admin.ts'
import type { BackupRestoreGrantRecord } from '../../metadata/stores.ts'
import { contentDisposition, contentTypeOf, DOWNLOAD_CSP } from '../../share/file-names.ts'
import { actorOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, idParams, idParamSchema } from '../schemas.ts'
import { tarSize, tarStream } from '../../backup/tar-archive.ts'
import { backupAdminOf, backupAuditor } from './backup-routes.ts'

const str = { type: 'string' }
// A path in a snapshot, from its root ('home/ada/Documents'); the schema bounds it, the browser says what is wrong with it.
const snapshotPathSchema = { type: 'string', maxLength: 4096 } as const
const itemSchema = closed({
  name: str,
  type: { type: 'string', enum: ['file', 'dir', 'symlink'] },
  size: { type: 'integer' },
  mode: { type: 'integer', description: 'permission bits (mode & 0o7777)' },
  mtimeMs: { type: 'number' },
  target: { type: 'string', description: 'a symbolic link\'s target' },
  changed: { type: 'boolean', description: 'the file changed while it was backed up: its content is what the last read saw' }
}, ['name', 'type', 'size', 'mode', 'mtimeMs'])
const restoreGrantSchema = closed({ id: str, snapshotId: str, deviceId: str, grantedBy: str, grantedAt: str, expiresAt: str })
// One chunk queued beside the socket's: the store already reads a few ahead.
const STREAM = { highWaterMark: 1 }
const DEFAULT_GRANT_MINUTES = 24 * 60

/** After the app's own headers: a downloaded file is never a page of this origin. */
async function withDownloadCsp (_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  void reply.header('Content-Security-Policy', DOWNLOAD_CSP)
  return payload
}

/**
 * A download's body. A failure midway (a damaged chunk) is logged and ends the response short of
 * its Content-Length, so the browser reports a failed download rather than keeping short data.
 */
function cutShortOnError (ctx: WebContext, what: string, bytes: AsyncIterable<Uint8Array>): Readable {
  const body = async function * (): AsyncGenerator<Uint8Array> {
    try {
      yield * bytes
    } catch (err) {
      ctx.log(`${what} failed: ${(err as Error).message}`)
      throw err
    }
  }
  return Readable.from(body(), STREAM)
}

function restoreGrantView (g: BackupRestoreGrantRecord): object {
  return { ...g, grantedAt: g.grantedAt.toISOString(), expiresAt: g.expiresAt.toISOString() }
}

/**
 * A snapshot's content for administrators, read on the server: one directory at a time, a
 * file's download and a directory's as a tar archive (streamed chunk by chunk, each verified;
 * damage ends the download with an error rather than short data; audited `backup.download`). And restore grants: another device
 * may restore a snapshot until the grant expires or an administrator revokes it. Policies,
 * holds, scrubs: backup-routes.ts.
 */
export function backupSnapshotRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api } = ctx
  const backups = (): BackupAdmin => backupAdminOf(api)
  const record = backupAuditor(ctx)

  return async app => {
    app.get<{ Params: { id: string }, Querystring: { path?: string } }>('/backup/snapshots/:id/tree', {
      config: { access: 'admin' },
      schema: {
        summary: 'One directory of a snapshot: its entries by name (`path` from the snapshot\'s root, like home/ada/Documents; the root when absent)',
        tags: ['backup'],
        params: idParams,
        querystring: closed({ path: snapshotPathSchema }, []),
        response: responses(closed({ snapshot: str, path: str, entries: { type: 'array', items: itemSchema } }))
      }
    }, async request => {
      const path = request.query.path ?? ''
      return { snapshot: request.params.id, path, entries: await backups().browse().list(request.params.id, path) }
    })

    app.get<{ Params: { id: string }, Querystring: { path: string } }>('/backup/snapshots/:id/file', {
      config: { access: 'admin' },
      schema: {
        summary: 'Download one file of a snapshot (`path` from the snapshot\'s root); every chunk is verified, and a damaged one ends the download with an error',
        tags: ['backup'],
        params: idParams,
        querystring: closed({ path: snapshotPathSchema }),
        response: responses({ description: 'the file\'s bytes', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } })
      },
      onSend: withDownloadCsp
    }, async (request, reply) => {
      const { id } = request.params
      const { path } = request.query
      // Reads the file's first chunk: a file whose start is damaged is refused before any header is sent.
      const file = await backups().browse().open(id, path)
      record(request, 'backup.download', id, { path, bytes: file.size })
      void reply
        .header('Content-Type', contentTypeOf(file.name))
        .header('Content-Disposition', contentDisposition(file.name))
        .header('Content-Length', String(file.size))
        .header('Last-Modified', new Date(file.mtimeMs).toUTCString())
      return reply.send(cutShortOnError(ctx, `download of ${path} from snapshot ${id}`, file.content))
    })

    app.get<{ Params: { id: string }, Querystring: { path?: string } }>('/backup/snapshots/:id/archive', {
      config: { access: 'admin' },
      schema: {
        summary: 'Download a directory of a snapshot (`path` from the snapshot\'s root; the whole snapshot when absent) as a tar archive with modes, times and symbolic links; every chunk is verified, and a damaged one ends the download with an error',
        tags: ['backup'],
        params: idParams,
        querystring: closed({ path: snapshotPathSchema }, []),
        response: responses({ description: 'a POSIX (pax) tar archive', content: { 'application/x-tar': { schema: { type: 'string', format: 'binary' } } } })
      },
      onSend: withDownloadCsp
    }, async (request, reply) => {
      const { id } = request.params
      const path = request.query.path ?? ''
      // Reads every directory object first: a damaged one is refused before any byte is sent.
      const archive = await backups().browse().archive(id, path)
      const bytes = tarSize(archive.entries)
      const files = archive.entries.filter(e => e.type === 'file').length
      record(request, 'backup.download', id, { path, as: 'tar', files, bytes })
      void reply
        .header('Content-Type', 'application/x-tar')
        .header('Content-Disposition', contentDisposition(`${archive.name}.tar`))
        .header('Content-Length', String(bytes))
      return reply.send(cutShortOnError(ctx, `archive of /${path} from snapshot ${id}`, tarStream(archive.entries)))
    })

    app.post<{ Params: { id: string }, Body: { device: string, ttlMinutes?: number } }>('/backup/snapshots/:id/restore-grants', {
      config: { access: 'admin' },
      schema: {
        summary: 'Let another device restore this snapshot (`aerie restore SNAPSHOT --to DIR` on that device) until the grant expires or is revoked',
        tags: ['backup'],
        params: idParams,
        body: closed({ device: idParamSchema, ttlMinutes: { type: 'integer', minimum: 5, maximum: 60 * 24 * 30 } }, ['device']),
        response: responses(closed({ grant: restoreGrantSchema, command: str }))
      }
    }, async request => {
      const { device, ttlMinutes } = request.body
      const target = api.devices().find(d => d.deviceId === device)
      if (target === undefined) throw new NotFoundError(`no enrolled device has the id "${device}"; GET /api/v1/devices lists them`)
      if (target.revokedAt !== undefined) throw new InvalidInputError(`device ${device} is revoked: it cannot restore anything; grant the restore to a device in use (GET /api/v1/devices lists them)`)
      const grant = backups().grantRestore(request.params.id, device, (ttlMinutes ?? DEFAULT_GRANT_MINUTES) * 60_000, actorOf(request))
      const snapshot = backups().snapshot(grant.snapshotId)!
      record(request, 'backup.restore_granted', grant.snapshotId, { from: snapshot.deviceId, to: device, toUser: target.user, expiresAt: grant.expiresAt.toISOString(), grant: grant.id })
      return { grant: restoreGrantView(grant), command: `aerie restore ${grant.snapshotId} --to DIR` }
    })

    app.get('/backup/restore-grants', {
      config: { access: 'admin' },
      schema: {
        summary: 'Restore grants in force (not expired, not revoked), oldest first',
        tags: ['backup'],
        response: responses(closed({ grants: { type: 'array', items: restoreGrantSchema } }))
      }
    }, async () => ({ grants: backups().restoreGrants().map(restoreGrantView) }))

    app.delete<{ Params: { id: string } }>('/backup/restore-grants/:id', {
      config: { access: 'admin' },
      schema: {
        summary: 'Revoke a restore grant: its device can no longer open the snapshot (a restore it is running now finishes)',
        tags: ['backup'],
        params: idParams,
        response: responses(closed({ grant: restoreGrantSchema }))
      }
    }, async request => {
      const grant = backups().revokeRestoreGrant(request.params.id)
      record(request, 'backup.restore_grant_revoked', grant.snapshotId, { grant: grant.id, device: grant.deviceId, expiresAt: grant.expiresAt.toISOString() })
      return { grant: restoreGrantView(grant) }
    })
  }
}
