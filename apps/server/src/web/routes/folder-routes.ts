import type { FastifyPluginAsync } from 'fastify'
import type { FolderSummary } from '../../team-server-api.ts'
import { principalOf } from '../auth.ts'
import type { Principal, WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, folderSchema, orgSchema } from '../schemas.ts'

/** Folders of the central copy (a user sees those they own or have a device in) and the administrator's dashboard. */
export function folderRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api } = ctx
  const visible = (principal: Principal): FolderSummary[] => {
    if (principal.user.role === 'admin') return api.folders()
    const email = principal.user.email.toLowerCase()
    const mine = new Set(api.devices().filter(d => d.user.toLowerCase() === email).map(d => d.deviceId))
    return api.folders().filter(f => f.owner.toLowerCase() === email || f.members.some(m => mine.has(m.deviceId)))
  }

  return async app => {
    app.get('/folders', {
      config: { access: 'user' },
      schema: { summary: 'Folders with their members', tags: ['folders'], response: responses(closed({ folders: { type: 'array', items: folderSchema } })) }
    }, async request => ({ folders: visible(principalOf(request)) }))

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
