import { InvalidInputError, shareState } from '@aerie/core'
import type { SharePolicy } from '@aerie/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ForbiddenError, NotFoundError } from '../../accounts/errors.ts'
import type { ShareLinkRecord } from '../../metadata/stores.ts'
import type { NewShare, ShareLinks } from '../../share/share-links.ts'
import { actorOf, principalOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { createFolderAccess } from '../folder-access.ts'
import { closed, idParams, idParamSchema } from '../schemas.ts'

const shareSchema = closed({
  id: { type: 'string' },
  folder: { type: 'string' },
  path: { type: 'string', description: 'the shared file or directory, relative to the folder\'s root ("" the whole folder)' },
  name: { type: 'string' },
  kind: { type: 'string', enum: ['file', 'folder'] },
  createdBy: { type: 'string', description: 'the email of the user who made it' },
  createdAt: { type: 'string' },
  expiresAt: { type: 'string' },
  revokedAt: { type: 'string' },
  state: { type: 'string', enum: ['active', 'expired', 'revoked', 'exhausted'] },
  hasPassword: { type: 'boolean' },
  maxDownloads: { type: 'integer' },
  downloads: { type: 'integer' },
  uploadOnly: { type: 'boolean' },
  maxUploadBytes: { type: 'integer' },
  snapshot: { type: 'boolean', description: 'serves the files as they were when the link was made (a file changed since is no longer served)' }
}, ['id', 'folder', 'path', 'name', 'kind', 'createdBy', 'createdAt', 'expiresAt', 'state', 'hasPassword', 'downloads', 'uploadOnly', 'snapshot'])

const policySchema = closed({
  maxLifetimeSeconds: { type: 'integer', minimum: 60, maximum: 31_622_400, description: 'the longest a link may live' },
  passwordRequired: { type: 'boolean', description: 'whether every link needs a password' },
  maxUploadBytes: { type: 'integer', minimum: 1, description: 'the largest single upload a file drop may take' }
})

/**
 * Share links: make one for a file or directory of a folder one of your devices is a member of
 * (a file drop needs a member who may change it), list yours (administrators: everyone's) with
 * their download counts, revoke; the organisation's policy (administrators change it). The
 * token is in the answer that makes the link, and nowhere else. The public pages: share/public-pages.ts.
 */
export function shareRoutes (ctx: WebContext, shares: ShareLinks): FastifyPluginAsync {
  const access = createFolderAccess(ctx.api)
  const emailOf = (userId: string): string => ctx.accounts.userById(userId)?.email ?? userId

  const view = (link: ShareLinkRecord) => ({
    id: link.id,
    folder: link.folder,
    path: link.path,
    name: link.path === '' ? link.folder : link.path.slice(link.path.lastIndexOf('/') + 1),
    kind: link.kind,
    createdBy: emailOf(link.createdBy),
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
    ...(link.revokedAt === undefined ? {} : { revokedAt: link.revokedAt.toISOString() }),
    state: shareState(link, ctx.now()),
    hasPassword: link.passwordHash !== undefined,
    ...(link.maxDownloads === undefined ? {} : { maxDownloads: link.maxDownloads }),
    downloads: link.downloads,
    uploadOnly: link.uploadOnly,
    ...(link.maxUploadBytes === undefined ? {} : { maxUploadBytes: link.maxUploadBytes }),
    snapshot: link.snapshot !== undefined
  })

  const mine = (request: FastifyRequest, id: string): ShareLinkRecord => {
    const { user } = principalOf(request)
    const link = shares.get(id)
    if (link === undefined || (link.createdBy !== user.id && user.role !== 'admin')) throw new NotFoundError(`you have no share link with id ${id}`)
    return link
  }

  return async app => {
    app.post<{ Body: Omit<NewShare, 'expiresAt'> & { expiresAt?: string } }>('/shares', {
      config: { access: 'user' },
      schema: {
        summary: 'A public link to a file or directory of the central copy. The answer holds the link (with its token) once: it is stored only hashed.',
        tags: ['shares'],
        body: closed({
          folder: idParamSchema,
          path: { type: 'string', maxLength: 4096, description: 'relative to the folder\'s root; "" shares the whole folder' },
          expiresIn: { type: 'integer', minimum: 1, maximum: 100 * 366 * 86400, description: 'seconds from now (or give expiresAt)' },
          expiresAt: { type: 'string', format: 'date-time', maxLength: 64 },
          password: { type: 'string', minLength: 1, maxLength: 1024 },
          maxDownloads: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
          uploadOnly: { type: 'boolean', description: 'a file drop: outsiders upload into the directory and see nothing' },
          maxUploadBytes: { type: 'integer', minimum: 1, maximum: 2 ** 50 },
          snapshot: { type: 'boolean', description: 'serve the files as they are now; a file changed later is no longer served' }
        }, ['folder', 'path']),
        response: responses(closed({ share: shareSchema, url: { type: 'string' }, token: { type: 'string' } }))
      }
    }, async request => {
      const principal = principalOf(request)
      const folder = access.find(principal, request.body.folder)
      if (request.body.uploadOnly === true && !access.mayChange(principal, folder)) {
        throw new ForbiddenError(`your devices are viewers of folder "${folder.id}": a file drop changes it, which needs an editor or the owner`)
      }
      const { expiresAt, ...rest } = request.body
      const at = expiresAt === undefined ? undefined : new Date(expiresAt)
      if (at !== undefined && Number.isNaN(at.getTime())) throw new InvalidInputError(`expiresAt "${expiresAt}" is not a time this server can read; give it like 2030-01-02T10:00:00Z`)
      const { link, token } = await shares.create({ ...rest, folder: folder.id, ...(at === undefined ? {} : { expiresAt: at }) }, principal.user.id, ctx.now())
      ctx.audit.record({
        actor: actorOf(request),
        action: 'share.created',
        target: link.id,
        detail: {
          folder: link.folder,
          path: link.path,
          kind: link.kind,
          expiresAt: link.expiresAt.toISOString(),
          password: link.passwordHash !== undefined,
          maxDownloads: link.maxDownloads ?? null,
          uploadOnly: link.uploadOnly,
          snapshot: link.snapshot !== undefined,
          ...viaOf(request)
        },
        address: request.ip
      }, ctx.now())
      return { share: view(link), url: `${request.protocol}://${request.host}/s/${token}`, token }
    })

    app.get('/shares', {
      config: { access: 'user' },
      schema: {
        summary: 'Your share links, newest first, with how often each was downloaded (an administrator sees everyone\'s)',
        tags: ['shares'],
        response: responses(closed({ shares: { type: 'array', items: shareSchema } }))
      }
    }, async request => {
      const { user } = principalOf(request)
      return { shares: shares.list(user.role === 'admin' ? undefined : user.id).map(view) }
    })

    app.delete<{ Params: { id: string } }>('/shares/:id', {
      config: { access: 'user' },
      schema: {
        summary: 'Revoke a share link: it answers 410 from now on',
        tags: ['shares'],
        params: idParams,
        response: responses(closed({ share: shareSchema }))
      }
    }, async request => {
      const link = mine(request, request.params.id)
      if (shares.revoke(link.id, ctx.now())) {
        ctx.audit.record({ actor: actorOf(request), action: 'share.revoked', target: link.id, detail: { folder: link.folder, path: link.path, ...viaOf(request) }, address: request.ip }, ctx.now())
      }
      return { share: view(shares.get(link.id)!) }
    })

    app.get('/share-policy', {
      config: { access: 'user' },
      schema: { summary: 'The organisation\'s rules for share links', tags: ['shares'], response: responses(policySchema) }
    }, async () => shares.policy())

    app.put<{ Body: SharePolicy }>('/share-policy', {
      config: { access: 'admin' },
      schema: { summary: 'Change the rules for new share links (links made before keep their terms)', tags: ['shares'], body: policySchema, response: responses(policySchema) }
    }, async request => {
      const before = shares.policy()
      const after = shares.setPolicy(request.body)
      ctx.audit.record({
        actor: actorOf(request),
        action: 'share.policy_changed',
        target: 'share-policy',
        detail: { ...after, previousMaxLifetimeSeconds: before.maxLifetimeSeconds, previousPasswordRequired: before.passwordRequired, previousMaxUploadBytes: before.maxUploadBytes, ...viaOf(request) },
        address: request.ip
      }, ctx.now())
      return after
    })
  }
}
