import { ForbiddenError, NotFoundError } from '../accounts/errors.ts'
import type { FolderSummary, TeamServerApi } from '../team-server-api.ts'
import type { Principal } from './context.ts'

export type FolderRole = FolderSummary['members'][number]['role']

const RANK: Record<FolderRole, number> = { viewer: 1, editor: 2, owner: 3 }

/**
 * Who may see and change which folder of the central copy, in one place for every route: an
 * administrator every folder; a user those where one of their enrolled, unrevoked devices is a
 * member, or that is shared with them (all their devices), with the strongest of those roles. A folder a user may not see is
 * answered as if it did not exist, so its name leaks nothing.
 */
export interface FolderAccess {
  visible (principal: Principal): FolderSummary[]
  /** The folder, if the principal may see it; NotFoundError otherwise. */
  find (principal: Principal, folderId: string): FolderSummary
  /** Whether the principal may change the folder's files (restore a version): an administrator, an owner or an editor. */
  mayChange (principal: Principal, folder: FolderSummary): boolean
  /** find(), and ForbiddenError unless mayChange(). */
  findToChange (principal: Principal, folderId: string): FolderSummary
}

export function createFolderAccess (api: Pick<TeamServerApi, 'folders' | 'devices'>): FolderAccess {
  // The principal's strongest role in each folder (undefined: none), for a user; admins skip this.
  const rolesOf = (principal: Principal): (folder: FolderSummary) => FolderRole | undefined => {
    const email = principal.user.email.toLowerCase()
    const mine = new Set(api.devices().filter(d => d.user.toLowerCase() === email && d.revokedAt === undefined).map(d => d.deviceId))
    // A folder shared with the user (all their devices) counts once they have an unrevoked device.
    const byUser = (folder: FolderSummary): FolderRole[] => mine.size === 0 ? [] : (folder.users ?? []).filter(u => u.user.toLowerCase() === email).map(u => u.role)
    return folder => [...folder.members.filter(m => mine.has(m.deviceId)).map(m => m.role), ...byUser(folder)]
      .reduce<FolderRole | undefined>((best, role) => best === undefined || RANK[role] > RANK[best] ? role : best, undefined)
  }
  const isAdmin = (principal: Principal): boolean => principal.user.role === 'admin'

  const access: FolderAccess = {
    visible (principal) {
      if (isAdmin(principal)) return api.folders()
      const roleIn = rolesOf(principal)
      return api.folders().filter(f => roleIn(f) !== undefined)
    },
    find (principal, folderId) {
      const folder = access.visible(principal).find(f => f.id === folderId)
      if (folder === undefined) throw new NotFoundError(`the team server keeps no folder "${folderId}"${isAdmin(principal) ? '' : ' that one of your devices is a member of'}`)
      return folder
    },
    mayChange (principal, folder) {
      if (isAdmin(principal)) return true
      const role = rolesOf(principal)(folder)
      return role === 'owner' || role === 'editor'
    },
    findToChange (principal, folderId) {
      const folder = access.find(principal, folderId)
      if (!access.mayChange(principal, folder)) throw new ForbiddenError(`your devices are viewers of folder "${folderId}": restoring needs an editor or the owner; ask the folder's owner or an administrator`)
      return folder
    }
  }
  return access
}
