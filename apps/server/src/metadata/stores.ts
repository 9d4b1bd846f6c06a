/**
 * The team server's metadata, as its callers see it: accounts, sessions, API tokens, login
 * failures, the audit log, share links and backup snapshots. node:sqlite implements these today (server-db.ts); a PostgreSQL
 * implementation can later, and both must pass test/metadata/metadata-store-compliance.ts.
 *
 * Stores hold records and make each check-and-set a single atomic step (a TOTP step used once,
 * a recovery code used once, an audit entry chained to the one before); policy (hashing,
 * throttling, expiry) lives in accounts/ and audit/.
 */

import type { BackupRetention } from '@aerie/core'

export type Role = 'admin' | 'user'

export interface UserRecord {
  id: string
  email: string
  role: Role
  passwordHash: string
  /** Base32 TOTP secret once second-factor enrolment is confirmed. */
  totpSecret?: string
  /** A secret shown to the user but not yet confirmed with a code. */
  totpPendingSecret?: string
  createdAt: Date
  disabledAt?: Date
}

export interface AccountStore {
  /** Throws ConflictError when the email is taken. */
  createUser (user: { id: string, email: string, role: Role, passwordHash: string, createdAt: Date }): UserRecord
  userById (id: string): UserRecord | undefined
  /** Case-insensitive. */
  userByEmail (email: string): UserRecord | undefined
  listUsers (): UserRecord[]
  countAdmins (): number
  setDisabled (id: string, at: Date | undefined): void
  setPasswordHash (id: string, passwordHash: string): void
  setTotp (id: string, totp: { secret?: string, pendingSecret?: string }): void
  /**
   * Records that TOTP time step `step` was used: true only when it is later than every step
   * used before, so a code (or an older one) is never accepted twice.
   */
  useTotpStep (id: string, step: number): boolean
  replaceRecoveryCodes (userId: string, codeHashes: string[]): void
  /** True once per code: the code is spent in the same step. */
  useRecoveryCode (userId: string, codeHash: string, at: Date): boolean
  recoveryCodesLeft (userId: string): number
  /** The server's one-time facts (e.g. when first-admin setup was done). */
  getSetting (name: string): string | undefined
  /** Sets a value only if unset; false when it already was (so two setups cannot both win). */
  setSettingOnce (name: string, value: string): boolean
}

export interface SessionRecord {
  idHash: string
  userId: string
  csrfToken: string
  createdAt: Date
  lastSeenAt: Date
  expiresAt: Date
  address: string
}

/** A password that was right, waiting for the second factor. */
export interface LoginTicketRecord {
  ticketHash: string
  userId: string
  expiresAt: Date
}

export interface SessionStore {
  createSession (session: SessionRecord): void
  session (idHash: string): SessionRecord | undefined
  touchSession (idHash: string, at: Date): void
  deleteSession (idHash: string): void
  deleteUserSessions (userId: string): void
  deleteExpiredSessions (now: Date): void
  createTicket (ticket: LoginTicketRecord): void
  ticket (ticketHash: string): LoginTicketRecord | undefined
  deleteTicket (ticketHash: string): void
}

export interface ApiTokenRecord {
  id: string
  userId: string
  name: string
  tokenHash: string
  createdAt: Date
  lastUsedAt?: Date
  revokedAt?: Date
}

export interface ApiTokenStore {
  createToken (token: { id: string, userId: string, name: string, tokenHash: string, createdAt: Date }): ApiTokenRecord
  tokenByHash (tokenHash: string): ApiTokenRecord | undefined
  tokenById (id: string): ApiTokenRecord | undefined
  listTokens (userId?: string): ApiTokenRecord[]
  /** True when newly revoked. */
  revokeToken (id: string, at: Date): boolean
  touchToken (id: string, at: Date): void
}

export interface LoginFailureStore {
  recordFailure (key: string, at: Date): void
  failuresSince (key: string, since: Date): number
  clearFailures (key: string): void
  lock (key: string, until: Date): void
  lockedUntil (key: string): Date | undefined
  /** Forgets failures and lockouts older than `before`, so the table does not grow forever. */
  prune (before: Date): void
}

export interface AuditEntry {
  /** ISO 8601 time. */
  time: string
  /** Who did it: a user's email, `token:<name>`, `system`, or `anonymous`. */
  actor: string
  action: string
  target: string
  detail: Record<string, string | number | boolean | null>
  address: string
}

export interface AuditRecord extends AuditEntry {
  seq: number
  prevHash: string
  hash: string
}

export interface AuditFilter {
  action?: string
  actor?: string
  since?: Date
  until?: Date
  /** Entries with a smaller sequence number only (paging backwards). */
  beforeSeq?: number
  limit: number
}

export interface AuditStore {
  /**
   * Appends under the store's write lock: `chain` receives the last entry's sequence number and
   * hash (0 and the genesis hash when empty) and returns this entry's hash.
   */
  append (entry: AuditEntry, chain: (last: { seq: number, hash: string }) => string): AuditRecord
  /** Newest first. */
  list (filter: AuditFilter): AuditRecord[]
  /** Every entry in sequence order, for verification. */
  entries (): Iterable<AuditRecord>
  /** The last entry as the store last recorded it (kept apart from the entries, so a removed tail shows). */
  head (): { seq: number, hash: string }
}

/** A file as a snapshot link froze it: served only while the central copy's file is still this one. */
export interface SnapshotFile {
  path: string
  size: number
  mtimeMs: number
  modifiedBy: string
}

export interface ShareLinkRecord {
  id: string
  /** SHA-256 of the link's token (hex); the token itself is never stored. */
  tokenHash: string
  folder: string
  /** The shared file or directory, relative to the folder's root ('' is the whole folder). */
  path: string
  kind: 'file' | 'folder'
  /** The user who made it (id). */
  createdBy: string
  createdAt: Date
  expiresAt: Date
  /** scrypt hash (accounts/password.ts), when the link has a password. */
  passwordHash?: string
  maxDownloads?: number
  downloads: number
  /** A file drop: outsiders upload into the folder, and nothing is listed or served. */
  uploadOnly: boolean
  maxUploadBytes?: number
  /** Set when made with snapshot: the files as they were at creation. */
  snapshot?: SnapshotFile[]
  revokedAt?: Date
}

export interface SharePolicyRecord {
  maxLifetimeSeconds: number
  passwordRequired: boolean
  maxUploadBytes: number
}

export interface ShareStore {
  /** Throws ConflictError when the id or token hash is taken. */
  createShare (link: Omit<ShareLinkRecord, 'downloads' | 'revokedAt'>): ShareLinkRecord
  shareById (id: string): ShareLinkRecord | undefined
  shareByTokenHash (tokenHash: string): ShareLinkRecord | undefined
  /** Newest first; one user's links, or everyone's. */
  listShares (createdBy?: string): ShareLinkRecord[]
  /** True when newly revoked. */
  revokeShare (id: string, at: Date): boolean
  /** Counts one download in the same step as checking the limit: false (and nothing counted) once it is reached. */
  countDownload (id: string): boolean
  /** The organisation's policy, or undefined while an administrator has set none. */
  policy (): SharePolicyRecord | undefined
  setPolicy (policy: SharePolicyRecord): void
}

/** An endpoint-backup snapshot as the server recorded it (what /aerie/backup/1.1.0 commits). */
export interface BackupSnapshotRecord {
  id: string
  deviceId: string
  deviceName: string
  user: string
  /** The root directory object's id (hex). */
  root: string
  paths: string[]
  startedAt: Date
  committedAt: Date
  /** What the device counted: files, bytes, changed, skipped, … */
  counters: Record<string, number>
  /** What the server received on the stream that committed it (the blobs it lacked). */
  received: { chunks: number, bytes: number }
}

export interface BackupStore {
  /** Adds a snapshot (ConflictError if the id is taken). There is no update: a snapshot never changes. */
  addSnapshot (snapshot: BackupSnapshotRecord): BackupSnapshotRecord
  snapshot (id: string): BackupSnapshotRecord | undefined
  /** Oldest first; one device's, or everyone's. */
  listSnapshots (filter?: { deviceId?: string }): BackupSnapshotRecord[]
  /** Removes a snapshot's record: only the server's retention calls this (and audits it); a device has no way to. */
  forgetSnapshot (id: string): boolean
  /** The policy of `scope` (a device id, or DEFAULT_SCOPE), undefined when none is set. */
  retention (scope: string): BackupRetentionRecord | undefined
  /** Every policy set, by scope (DEFAULT_SCOPE's among them when set). */
  retentionPolicies (): Array<BackupRetentionRecord & { scope: string }>
  /** Sets a scope's policy, or clears it with undefined (the device then follows the default). */
  setRetention (scope: string, policy: BackupRetentionRecord | undefined): void
  holds (): BackupHoldRecord[]
  /** Puts a user (by e-mail, any case) or device on hold; setting it again replaces the reason. */
  setHold (hold: BackupHoldRecord): void
  liftHold (kind: BackupHoldRecord['kind'], subject: string): boolean
  addRestoreGrant (grant: BackupRestoreGrantRecord): void
  /** Grants to a device that have not expired at `now`. */
  restoreGrants (deviceId: string, now: Date): BackupRestoreGrantRecord[]
  /** Every device's grants that have not expired at `now`, oldest first. */
  allRestoreGrants (now: Date): BackupRestoreGrantRecord[]
  /** Removes a grant: the device can no longer open the snapshot under it. False when there is none with that id. */
  revokeRestoreGrant (id: string): boolean
  addScrub (report: ScrubReport): void
  lastScrub (): ScrubReport | undefined
}

/** The scope of the policy every device without its own follows. */
export const DEFAULT_SCOPE = '*'

export interface BackupRetentionRecord {
  policy: BackupRetention
  setBy: string
  setAt: Date
}

export interface BackupHoldRecord {
  kind: 'user' | 'device'
  /** A device id, or a user's e-mail (kept lower-case). */
  subject: string
  reason: string
  setBy: string
  setAt: Date
}

/** An admin's leave for `deviceId` to open (and restore) another device's snapshot until `expiresAt`. */
export interface BackupRestoreGrantRecord {
  id: string
  snapshotId: string
  deviceId: string
  grantedBy: string
  grantedAt: Date
  expiresAt: Date
}

/** What one scrub found: the damaged chunks, and who needs them. */
export interface ScrubReport {
  startedAt: string
  finishedAt: string
  /** Chunks read back. */
  checked: number
  damaged: Array<{ chunk: string, where: string, reason: string }>
  /** Snapshots that need a damaged chunk, with the files (paths in the snapshot) that do. */
  snapshots: Array<{ id: string, deviceId: string, deviceName: string, user: string, committedAt: string, files: string[] }>
  /** Central-copy files (current, or a kept version) that need one. */
  centralFiles: Array<{ folder: string, path: string, version: 'current' | 'kept' }>
  /** Set when the scrub could not finish (the report then covers what it read). */
  error?: string
}

export interface ServerMetadata {
  accounts: AccountStore
  sessions: SessionStore
  apiTokens: ApiTokenStore
  loginFailures: LoginFailureStore
  audit: AuditStore
  shares: ShareStore
  backups: BackupStore
  close (): void
}

/** The hash before the first audit entry. */
export const GENESIS_HASH = '0'.repeat(64)
