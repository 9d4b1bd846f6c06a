import { NotConfiguredError, shareState } from '@aerie/core'
import { ForbiddenError, NotFoundError } from './accounts/errors.ts'
import type { DeviceShareRequest, DeviceShareResponse, FolderRole, ShareSummary } from '@aerie/core'
import type { AuditLog } from './audit/audit-log.ts'
import type { AccountStore, ShareLinkRecord } from './metadata/stores.ts'
import type { ShareLinks } from './share/share-links.ts'

/**
 * Share links asked for by a device (`aerie share …`, over `/aerie/share/1.0.0`): the device's
 * certificate names its user, who must have an account here; the device must be a member of
 * the folder (an editor or the owner for a file drop). The same links, policy and audit as the
 * console's.
 */
export interface DeviceSharesInit {
  shares: ShareLinks
  accounts: AccountStore
  audit: AuditLog
  /** The device's role in the folder (its own or its user's), undefined when it is not a member. */
  roleOf(folder: string, device: { deviceId: string, user: string }): FolderRole | undefined
  /** Where share links are opened, e.g. https://aerie.example.org. */
  publicUrl(): string
  now?(): Date
}

export type DeviceShareHandler = (request: DeviceShareRequest, device: { deviceId: string, user: string, address: string }) => Promise<DeviceShareResponse>

export function deviceShares (init: DeviceSharesInit): DeviceShareHandler {
  const now = (): Date => init.now?.() ?? new Date()
  const summary = (link: ShareLinkRecord): ShareSummary => ({
    id: link.id, folder: link.folder, path: link.path, kind: link.kind, state: shareState(link, now()), expiresAt: link.expiresAt.toISOString(),
    downloads: link.downloads, uploadOnly: link.uploadOnly, hasPassword: link.passwordHash !== undefined,
    ...(link.maxDownloads === undefined ? {} : { maxDownloads: link.maxDownloads })
  })
  return async (request, device) => {
    const user = init.accounts.userByEmail(device.user)
    if (user === undefined || user.disabledAt !== undefined) {
      throw new NotConfiguredError(`${device.user} has no active account on the team server; an administrator creates it on the console's Users page`)
    }
    const actor = `${user.email} (device ${device.deviceId})`
    switch (request.type) {
      case 'list':
        return { type: 'links', links: init.shares.list(user.id).map(summary) }
      case 'revoke': {
        const link = init.shares.get(request.id)
        if (link === undefined || link.createdBy !== user.id) throw new NotFoundError(`you have no share link with id ${request.id}`)
        init.shares.revoke(link.id, now())
        init.audit.record({ actor, action: 'share.revoked', target: link.id, detail: { folder: link.folder, path: link.path }, address: device.address }, now())
        return { type: 'revoked', id: link.id }
      }
      case 'create': {
        const role = init.roleOf(request.folder, device)
        if (role === undefined) throw new NotFoundError(`the team server keeps no folder "${request.folder}" that this device is a member of`)
        if (request.uploadOnly === true && role === 'viewer') throw new ForbiddenError(`this device is a viewer of folder "${request.folder}": a file drop changes it, which needs an editor or the owner`)
        const { type: _type, ...terms } = request
        const { link, token } = await init.shares.create(terms, user.id, now())
        init.audit.record({
          actor,
          action: 'share.created',
          target: link.id,
          detail: { folder: link.folder, path: link.path, kind: link.kind, expiresAt: link.expiresAt.toISOString(), password: link.passwordHash !== undefined, maxDownloads: link.maxDownloads ?? null, uploadOnly: link.uploadOnly, snapshot: link.snapshot !== undefined },
          address: device.address
        }, now())
        return { type: 'created', link: summary(link), url: `${init.publicUrl()}/s/${token}` }
      }
    }
  }
}
