import { InvalidInputError, isValidEmail } from '@aerie/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ConflictError, NotFoundError } from '../../accounts/errors.ts'
import { actorOf, principalOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { createFolderAccess } from '../folder-access.ts'
import { closed, emailSchema, folderSchema, idParamSchema, orgSchema } from '../schemas.ts'

/**
 * Folders of the central copy (who sees which: folder-access.ts), their members
 * (an administrator adds, re-roles and removes them; never the owner), and the dashboard.
 */
export function folderRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api } = ctx
  const access = createFolderAccess(api)

  const memberParams = closed({ folder: idParamSchema, device: idParamSchema })
  const folderResponse = responses(closed({ folder: folderSchema }))

  const changeMember = async (request: FastifyRequest<{ Params: { folder: string, device: string } }>, role: 'editor' | 'viewer' | 'remove') => {
    const { folder: folderId, device } = request.params
    const folder = api.folders().find(f => f.id === folderId)
    if (folder === undefined) throw new NotFoundError(`the team server keeps no folder "${folderId}"`)
    const member = folder.members.find(m => m.deviceId === device)
    if (member?.role === 'owner') throw new ConflictError('the owner of a folder cannot be changed or removed')
    if (role === 'remove') {
      if (member === undefined) throw new NotFoundError(`device ${device} is not a member of folder "${folderId}"`)
    } else {
      const known = api.devices().find(d => d.deviceId === device)
      if (known === undefined || known.revokedAt !== undefined) throw new NotFoundError(`no enrolled, unrevoked device has the id ${device}`)
    }
    const updated = await api.setFolderMember(folderId, device, role)
    ctx.audit.record({
      actor: actorOf(request),
      action: role === 'remove' ? 'folder.member_removed' : 'folder.member_set',
      target: folderId,
      detail: { deviceId: device, ...(role === 'remove' ? {} : { role }), ...(member === undefined ? {} : { previousRole: member.role }), ...viaOf(request) },
      address: request.ip
    }, ctx.now())
    return { folder: updated }
  }

  const userParams = closed({ folder: idParamSchema, email: emailSchema })

  const changeUser = async (request: FastifyRequest<{ Params: { folder: string, email: string } }>, role: 'editor' | 'viewer' | 'remove') => {
    const { folder: folderId } = request.params
    const email = request.params.email.toLowerCase()
    if (!isValidEmail(email)) throw new InvalidInputError(`"${request.params.email}" does not look like an email address, e.g. ada@example.org`)
    const folder = api.folders().find(f => f.id === folderId)
    if (folder === undefined) throw new NotFoundError(`the team server keeps no folder "${folderId}"`)
    const previous = folder.users.find(u => u.user === email)
    if (role === 'remove' && previous === undefined) throw new NotFoundError(`folder "${folderId}" is not shared with the devices of ${email}`)
    const updated = await api.setFolderUser(folderId, email, role)
    ctx.audit.record({
      actor: actorOf(request),
      action: role === 'remove' ? 'folder.user_removed' : 'folder.user_set',
      target: folderId,
      detail: { user: email, ...(role === 'remove' ? {} : { role }), ...(previous === undefined ? {} : { previousRole: previous.role }), ...viaOf(request) },
      address: request.ip
    }, ctx.now())
    return { folder: updated }
  }

  return async app => {
    app.put<{ Params: { folder: string, email: string }, Body: { role: 'editor' | 'viewer' } }>('/folders/:folder/users/:email', {
      config: { access: 'admin' },
      schema: {
        summary: 'Share a folder with every device of a user, present and future (a device\'s own entry takes precedence)',
        tags: ['folders'],
        params: userParams,
        body: closed({ role: { type: 'string', enum: ['editor', 'viewer'] } }),
        response: folderResponse
      }
    }, async request => await changeUser(request, request.body.role))

    app.delete<{ Params: { folder: string, email: string } }>('/folders/:folder/users/:email', {
      config: { access: 'admin' },
      schema: { summary: 'Stop sharing a folder with a user\'s devices', tags: ['folders'], params: userParams, response: folderResponse }
    }, async request => await changeUser(request, 'remove'))

    app.put<{ Params: { folder: string, device: string }, Body: { role: 'editor' | 'viewer' } }>('/folders/:folder/members/:device', {
      config: { access: 'admin' },
      schema: {
        summary: 'Add a device to a folder, or change its role (the server signs the new membership record)',
        tags: ['folders'],
        params: memberParams,
        body: closed({ role: { type: 'string', enum: ['editor', 'viewer'] } }),
        response: folderResponse
      }
    }, async request => await changeMember(request, request.body.role))

    app.delete<{ Params: { folder: string, device: string } }>('/folders/:folder/members/:device', {
      config: { access: 'admin' },
      schema: { summary: 'Remove a device from a folder', tags: ['folders'], params: memberParams, response: folderResponse }
    }, async request => await changeMember(request, 'remove'))

    app.get('/folders', {
      config: { access: 'user' },
      schema: {
        summary: 'Folders with their members, and whether you may change members here',
        tags: ['folders'],
        response: responses(closed({ folders: { type: 'array', items: folderSchema }, canManageMembers: { type: 'boolean' } }))
      }
    }, async request => {
      const principal = principalOf(request)
      return { folders: access.visible(principal), canManageMembers: principal.user.role === 'admin' }
    })

    app.get('/dashboard', {
      config: { access: 'admin' },
      schema: {
        summary: 'Devices online, folders, storage used and how much dedupe saves',
        tags: ['dashboard'],
        response: responses(closed({
          org: orgSchema,
          devices: closed({ enrolled: { type: 'integer' }, online: { type: 'integer' }, revoked: { type: 'integer' } }),
          folders: closed({ count: { type: 'integer' }, files: { type: 'integer' }, bytes: { type: 'integer' } }),
          users: closed({ count: { type: 'integer' }, admins: { type: 'integer' }, withTwoFactor: { type: 'integer' } }),
          storage: closed({
            chunks: { type: 'integer' },
            uniqueBytes: { type: 'integer' },
            storedBytes: { type: 'integer' },
            dedupeRatio: { type: ['number', 'null'] }
          })
        }))
      }
    }, async () => {
      const devices = api.devices()
      const folders = api.folders()
      const users = ctx.accounts.listUsers()
      const storage = await api.storage()
      const folderBytes = folders.reduce((sum, f) => sum + f.bytes, 0)
      return {
        org: api.org(),
        devices: {
          enrolled: devices.filter(d => d.revokedAt === undefined).length,
          online: devices.filter(d => d.online && d.revokedAt === undefined).length,
          revoked: devices.filter(d => d.revokedAt !== undefined).length
        },
        folders: { count: folders.length, files: folders.reduce((sum, f) => sum + f.files, 0), bytes: folderBytes },
        users: {
          count: users.filter(u => u.disabledAt === undefined).length,
          admins: users.filter(u => u.role === 'admin' && u.disabledAt === undefined).length,
          withTwoFactor: users.filter(u => u.totpSecret !== undefined && u.disabledAt === undefined).length
        },
        // What the folders hold for what the store keeps once: 3 means three copies' worth of bytes stored as one.
        storage: { ...storage, dedupeRatio: storage.uniqueBytes > 0 ? folderBytes / storage.uniqueBytes : null }
      }
    })
  }
}
