import type { ChunkStoreStats, FileIdentity, RetentionPolicy, ServerVersion } from '@aerie/core'
import type { BackupAdmin } from './backup/backup-admin.ts'

/**
 * What the web layer (src/web: admin API and UI) asks of the running team server: the
 * organisation's CA, its devices, the folders of the central copy and the store. The web
 * layer never reaches libp2p, the CA key or the stores directly; team-server.ts implements this.
 */
export interface TeamServerApi {
  org(): OrgSummary
  devices(): DeviceSummary[]
  /** A one-time enrollment code for a new device of `user` (text; the UI draws it as a QR code too). */
  createEnrollmentCode(request: { user: string, deviceName?: string, ttlMs: number }): EnrollmentCodeIssued
  /** Revokes a device (id, unique id prefix or name): a new CRL goes to every connected agent at once. */
  revokeDevice(device: string): Promise<DeviceSummary>
  folders(): FolderSummary[]
  /** Adds, re-roles or removes a member (never the owner): the server signs the new membership record and sends it to the members. */
  setFolderMember(folder: string, deviceId: string, role: 'editor' | 'viewer' | 'remove'): Promise<FolderSummary>
  /** As setFolderMember, for every device of a user (by e-mail), present and future. */
  setFolderUser(folder: string, user: string, role: 'editor' | 'viewer' | 'remove'): Promise<FolderSummary>
  /** What the central copy holds directly under `dir` ('' is the folder's root), deleted entries included. */
  listFolder(folder: string, dir: string): FolderEntry[]
  /** The central copy's versions of a file (the current one first), or of every file under a directory. */
  versions(folder: string, path: string): ServerVersion[]
  /** Makes the version current at `at` the file's newest (a change that syncs to every member); `actor` is logged. */
  restoreVersion(folder: string, path: string, at: Date, actor: string): Promise<ServerVersion>
  /**
   * A path's current entry (deleted: true when it was deleted), or undefined when the folder
   * never had it. With `version`: that version of the file, current or kept in the history.
   */
  fileInfo(folder: string, path: string, version?: FileIdentity): FolderEntry | undefined
  /** Every file (not deleted) under `dir` ('' the whole folder), by path. */
  walkFolder(folder: string, dir: string): FolderEntry[]
  /** A file's bytes [start, end) streamed from the store, chunk by chunk (never whole in memory); every chunk verified. `version` as in fileInfo. */
  readFile(folder: string, path: string, range?: { start: number, end: number }, version?: FileIdentity): AsyncIterable<Uint8Array>
  /** Stores `source` as the newest version of `path` (a change that syncs to every member); `by` is audited. */
  writeFile(folder: string, path: string, source: AsyncIterable<Uint8Array>, options: { by: string, mtimeMs?: number }): Promise<FolderEntry>
  retention(folder: string): RetentionPolicy
  setRetention(folder: string, policy: RetentionPolicy): RetentionPolicy
  storage(): Promise<ChunkStoreStats>
  /** Endpoint backups' admin side (snapshots, retention, holds, restore grants, scrubs); absent until the server serves backups. */
  backup?: BackupAdmin
}

export interface FolderEntry {
  /** Its name in `dir`, and its full folder path. */
  name: string
  path: string
  type: 'file' | 'dir' | 'symlink'
  size: number
  mtimeMs: number
  deleted: boolean
  modifiedBy: string
}

export interface OrgSummary {
  name: string
  /** SHA-256 fingerprint of the root CA certificate, hex. */
  caFingerprint: string
  /** The server's own device id and libp2p addresses (agents enroll and sync against these). */
  deviceId: string
  addresses: string[]
}

export interface DeviceSummary {
  deviceId: string
  deviceName: string
  user: string
  issuedAt: string
  revokedAt?: string
  online: boolean
  lastSeen?: string
  address?: string
}

export interface EnrollmentCodeIssued {
  code: string
  user: string
  deviceName?: string
  expiresAt: string
}

export interface FolderSummary {
  id: string
  label: string
  owner: string
  members: Array<{ deviceId: string, role: 'owner' | 'editor' | 'viewer' }>
  /** Users every device of whom is a member. */
  users: Array<{ user: string, role: 'editor' | 'viewer' }>
  files: number
  bytes: number
  /** Connected members, by device id. */
  online: string[]
}
