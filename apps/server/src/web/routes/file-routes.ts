import { InvalidInputError } from '@aerie/core'
import type { RetentionPolicy } from '@aerie/core'
import type { FastifyPluginAsync } from 'fastify'
import { checkRelativePath } from '../../relative-path.ts'
import { actorOf, principalOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { createFolderAccess } from '../folder-access.ts'
import { closed, idParamSchema } from '../schemas.ts'

// A path inside a folder, relative to its root ('' is the root where a directory is asked for).
// The schema bounds it; checkPath says what is wrong with it in words.
const folderPathSchema = { type: 'string', maxLength: 4096 } as const
const folderParams = closed({ folder: idParamSchema })

const entrySchema = closed({
  name: { type: 'string' },
  path: { type: 'string' },
  type: { type: 'string', enum: ['file', 'dir', 'symlink'] },
  size: { type: 'integer' },
  mtimeMs: { type: 'number' },
  deleted: { type: 'boolean' },
  modifiedBy: { type: 'string' }
})

const versionSchema = closed({
  path: { type: 'string' },
  size: { type: 'integer' },
  mtimeMs: { type: 'number' },
  modifiedBy: { type: 'string' },
  replacedAt: { type: 'string' },
  deleted: { type: 'boolean' }
}, ['path', 'size', 'mtimeMs', 'modifiedBy', 'deleted'])

const retentionSchema = closed({
  keepVersions: { type: 'integer', minimum: 1, maximum: 10_000, description: 'versions kept of each file, newest first' },
  maxAgeDays: { type: 'integer', minimum: 0, maximum: 36_500, description: 'versions replaced longer ago than this are removed; 0 keeps them forever' }
})

/**
 * The central copy's files: browse a folder (deleted files included), list a file's versions,
 * restore one (members who may edit, and administrators; audited), and the folder's retention
 * policy (administrators change it; audited). Who sees which folder: folder-access.ts.
 */
export function fileRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api, audit } = ctx
  const access = createFolderAccess(api)

  return async app => {
    app.get<{ Params: { folder: string }, Querystring: { dir?: string } }>('/folders/:folder/files', {
      config: { access: 'user' },
      schema: {
        summary: 'What the central copy holds directly under a directory (`dir`, the root when absent), deleted files included',
        tags: ['files'],
        params: folderParams,
        querystring: closed({ dir: folderPathSchema }, []),
        response: responses(closed({
          dir: { type: 'string' },
          entries: { type: 'array', items: entrySchema },
          canRestore: { type: 'boolean', description: 'whether you may restore versions in this folder' }
        }))
      }
    }, async request => {
      const principal = principalOf(request)
      const folder = access.find(principal, request.params.folder)
      const dir = request.query.dir ?? ''
      checkPath(dir, 'dir', true)
      return { dir, entries: api.listFolder(folder.id, dir), canRestore: access.mayChange(principal, folder) }
    })

    app.get<{ Params: { folder: string }, Querystring: { path: string } }>('/folders/:folder/versions', {
      config: { access: 'user' },
      schema: {
        summary: 'The versions the central copy keeps of a file, the current one first (a deleted file\'s is its deletion); of a directory, every file under it',
        tags: ['files'],
        params: folderParams,
        querystring: closed({ path: folderPathSchema }),
        response: responses(closed({ versions: { type: 'array', items: versionSchema } }))
      }
    }, async request => {
      const folder = access.find(principalOf(request), request.params.folder)
      checkPath(request.query.path, 'path', true)
      return { versions: api.versions(folder.id, request.query.path) }
    })

    app.post<{ Params: { folder: string }, Body: { path: string, at: string } }>('/folders/:folder/restore', {
      config: { access: 'user' },
      schema: {
        summary: 'Make the version of a file that was current at `at` its newest (also brings back a deleted file); it syncs to every member',
        tags: ['files'],
        params: folderParams,
        body: closed({ path: folderPathSchema, at: { type: 'string', format: 'date-time', maxLength: 64 } }),
        response: responses(closed({ version: versionSchema }))
      }
    }, async request => {
      const folder = access.findToChange(principalOf(request), request.params.folder)
      const { path } = request.body
      checkPath(path, 'path', false)
      const at = new Date(request.body.at)
      // The format lets a leap second (…:60) through, which Date cannot hold.
      if (Number.isNaN(at.getTime())) throw new InvalidInputError(`at "${request.body.at}" is not a time this server can read; give it like 2030-01-02T10:00:00Z`)
      const version = await api.restoreVersion(folder.id, path, at, actorOf(request))
      audit.record({
        actor: actorOf(request),
        action: 'version.restored',
        target: `${folder.id}/${path}`,
        detail: { at: at.toISOString(), modified: new Date(version.mtimeMs).toISOString(), ...viaOf(request) },
        address: request.ip
      }, ctx.now())
      return { version }
    })

    app.get<{ Params: { folder: string } }>('/folders/:folder/retention', {
      config: { access: 'user' },
      schema: {
        summary: 'How long the central copy keeps replaced and deleted versions of this folder\'s files',
        tags: ['files'],
        params: folderParams,
        response: responses(retentionSchema)
      }
    }, async request => api.retention(access.find(principalOf(request), request.params.folder).id))

    app.put<{ Params: { folder: string }, Body: RetentionPolicy }>('/folders/:folder/retention', {
      config: { access: 'admin' },
      schema: {
        summary: 'Change how long the central copy keeps versions of this folder\'s files (versions beyond it are removed at once)',
        tags: ['files'],
        params: folderParams,
        body: retentionSchema,
        response: responses(retentionSchema)
      }
    }, async request => {
      const folder = access.find(principalOf(request), request.params.folder)
      const before = api.retention(folder.id)
      const { keepVersions, maxAgeDays } = request.body
      const after = api.setRetention(folder.id, { keepVersions, maxAgeDays })
      audit.record({
        actor: actorOf(request),
        action: 'folder.retention_changed',
        target: folder.id,
        detail: {
          keepVersions: after.keepVersions,
          maxAgeDays: after.maxAgeDays,
          previousKeepVersions: before.keepVersions,
          previousMaxAgeDays: before.maxAgeDays,
          ...viaOf(request)
        },
        address: request.ip
      }, ctx.now())
      return after
    })
  }
}

function checkPath (path: string, field: string, rootAllowed: boolean): void {
  checkRelativePath(path, { field, where: 'the folder', example: 'plans/budget.xlsx', rootAllowed })
}
