import { randomUUID } from 'node:crypto'
import { checkSharePolicy, checkShareRequest, DEFAULT_SHARE_POLICY, hashShareToken, InvalidInputError, looksLikeShareToken, newShareToken, pathProblem } from '@aerie/core'
import type { SharePolicy, ShareRequest } from '@aerie/core'
import { NotFoundError } from '../accounts/errors.ts'
import { hashPassword } from '../accounts/password.ts'
import type { ShareLinkRecord, ShareStore, SnapshotFile } from '../metadata/stores.ts'
import type { FolderEntry, TeamServerApi } from '../team-server-api.ts'

/**
 * Share links as the server keeps them: made under the organisation's policy (core/share),
 * stored with their token hashed, found by token, revoked. Who may share which folder is the
 * web layer's question (web/folder-access.ts); this module trusts its caller on that.
 */

/** The most files a folder snapshot freezes: its list lives in the link's row. */
export const SNAPSHOT_MAX_FILES = 10_000

/** A link to make: core's request terms (its kind comes from what `path` is), where, and whether to freeze it. */
export interface NewShare extends Omit<ShareRequest, 'kind'> {
  folder: string
  /** '' is the folder's root. */
  path: string
  snapshot?: boolean
}

export interface ShareLinks {
  policy (): SharePolicy
  setPolicy (policy: SharePolicy): SharePolicy
  /** The new link, and its token: shown once, never stored. */
  create (request: NewShare, createdBy: string, now: Date): Promise<{ link: ShareLinkRecord, token: string }>
  /** A user's links, or everyone's. */
  list (createdBy?: string): ShareLinkRecord[]
  get (id: string): ShareLinkRecord | undefined
  revoke (id: string, now: Date): boolean
  /** The link a token opens, whatever its state; undefined for an unknown or malformed token. */
  find (token: string): ShareLinkRecord | undefined
  countDownload (id: string): boolean
}

export function createShareLinks (components: { api: Pick<TeamServerApi, 'fileInfo' | 'walkFolder'>, store: ShareStore }): ShareLinks {
  const { api, store } = components
  const links: ShareLinks = {
    policy: () => store.policy() ?? DEFAULT_SHARE_POLICY,
    setPolicy (policy) {
      store.setPolicy(checkSharePolicy(policy))
      return links.policy()
    },
    async create (request, createdBy, now) {
      const { folder, path } = request
      if (path !== '' && pathProblem(path) !== undefined) throw new InvalidInputError(`path "${path.slice(0, 80)}" is not a path inside the folder (${pathProblem(path)}); give it relative to the folder's root, or "" for the whole folder`)
      const entry = path === '' ? undefined : api.fileInfo(folder, path)
      if (path !== '' && (entry === undefined || entry.deleted || entry.type === 'symlink')) {
        throw new NotFoundError(`folder "${folder}" has no file or directory "${path}" in the team server's copy`)
      }
      const kind = entry?.type === 'file' ? 'file' : 'folder'
      const terms = checkShareRequest({ ...request, kind }, links.policy(), now)
      if (request.snapshot === true && terms.uploadOnly) throw new InvalidInputError('an upload-only link serves nothing to freeze; leave snapshot out')
      const token = newShareToken()
      const link = store.createShare({
        id: randomUUID(),
        tokenHash: hashShareToken(token),
        folder,
        path,
        kind,
        createdBy,
        createdAt: now,
        expiresAt: terms.expiresAt,
        ...(request.password === undefined ? {} : { passwordHash: await hashPassword(request.password) }),
        ...(terms.maxDownloads === undefined ? {} : { maxDownloads: terms.maxDownloads }),
        uploadOnly: terms.uploadOnly,
        ...(terms.maxUploadBytes === undefined ? {} : { maxUploadBytes: terms.maxUploadBytes }),
        ...(request.snapshot === true ? { snapshot: snapshotOf(api, folder, path, entry) } : {})
      })
      return { link, token }
    },
    list: createdBy => store.listShares(createdBy),
    get: id => store.shareById(id),
    revoke: (id, now) => store.revokeShare(id, now),
    find: token => looksLikeShareToken(token) ? store.shareByTokenHash(hashShareToken(token)) : undefined,
    countDownload: id => store.countDownload(id)
  }
  return links
}

/** What a snapshot freezes: each file's identity (size, modified time, by whom) at creation. */
function snapshotOf (api: Pick<TeamServerApi, 'walkFolder'>, folder: string, path: string, entry: FolderEntry | undefined): SnapshotFile[] {
  const files = entry?.type === 'file' ? [entry] : api.walkFolder(folder, path).filter(e => e.type === 'file')
  if (files.length > SNAPSHOT_MAX_FILES) throw new InvalidInputError(`a snapshot link freezes at most ${SNAPSHOT_MAX_FILES} files and "${path === '' ? folder : path}" has ${files.length}; share a smaller directory, or without snapshot`)
  return files.map(f => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, modifiedBy: f.modifiedBy }))
}
