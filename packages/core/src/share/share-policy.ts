import { InvalidInputError } from '../errors.ts'

/**
 * The organisation's rules for share links and a link's state, as pure functions: the server
 * checks every new link against the policy and asks a link's state on every request.
 */

export interface SharePolicy {
  /** The longest a link may live, in seconds. */
  maxLifetimeSeconds: number
  /** Whether every link needs a password. */
  passwordRequired: boolean
  /** The largest single upload a file drop may take, in bytes. */
  maxUploadBytes: number
}

export const DEFAULT_SHARE_POLICY: SharePolicy = {
  maxLifetimeSeconds: 30 * 24 * 3600,
  passwordRequired: false,
  maxUploadBytes: 1024 ** 3
}

/** Bounds of the policy itself (an administrator cannot set a link to live for ever). */
export const SHARE_POLICY_LIMITS = {
  maxLifetimeSeconds: { min: 60, max: 366 * 24 * 3600 },
  maxUploadBytes: { min: 1, max: 2 ** 50 }
} as const

/** A share link's passwords: short ones fall to guessing even with the rate limit. */
export const SHARE_PASSWORD_RULE = 'must be 8 to 1024 characters'

export interface ShareRequest {
  /** Seconds from now, or an absolute time; exactly one. */
  expiresIn?: number
  expiresAt?: Date
  password?: string
  maxDownloads?: number
  uploadOnly?: boolean
  maxUploadBytes?: number
  kind: 'file' | 'folder'
}

export interface ShareTerms {
  expiresAt: Date
  maxDownloads?: number
  uploadOnly: boolean
  /** Set for upload-only links: the request's, or the policy's when none was asked for. */
  maxUploadBytes?: number
}

/** What a new link may be under `policy`, or InvalidInputError saying what to change. */
export function checkShareRequest (request: ShareRequest, policy: SharePolicy, now: Date): ShareTerms {
  const { expiresIn, expiresAt, password, maxDownloads, uploadOnly = false, maxUploadBytes, kind } = request
  if ((expiresIn === undefined) === (expiresAt === undefined)) throw new InvalidInputError('give the link\'s expiry as expiresIn (seconds from now) or expiresAt (a time), one of the two')
  const end = expiresAt ?? new Date(now.getTime() + expiresIn! * 1000)
  if (Number.isNaN(end.getTime()) || end.getTime() <= now.getTime()) throw new InvalidInputError('the link would expire before it is made; give a time in the future')
  const days = (seconds: number): string => seconds % 86400 === 0 ? `${seconds / 86400} days` : `${seconds} seconds`
  if (end.getTime() - now.getTime() > policy.maxLifetimeSeconds * 1000) {
    throw new InvalidInputError(`the organisation lets a link live at most ${days(policy.maxLifetimeSeconds)}; choose an earlier expiry`)
  }
  if (password === undefined && policy.passwordRequired) throw new InvalidInputError('the organisation requires a password on every link; add one')
  if (password !== undefined && (password.length < 8 || password.length > 1024)) throw new InvalidInputError(`a link's password ${SHARE_PASSWORD_RULE}`)
  if (maxDownloads !== undefined && (!Number.isSafeInteger(maxDownloads) || maxDownloads < 1)) throw new InvalidInputError('maxDownloads must be a whole number of at least 1')
  if (uploadOnly) {
    if (kind !== 'folder') throw new InvalidInputError('an upload-only link (file drop) needs a folder to drop files into, not a file')
    if (maxDownloads !== undefined) throw new InvalidInputError('an upload-only link serves no downloads; leave maxDownloads out')
    if (maxUploadBytes !== undefined && (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes < 1)) throw new InvalidInputError('maxUploadBytes must be a whole number of bytes, at least 1')
    if (maxUploadBytes !== undefined && maxUploadBytes > policy.maxUploadBytes) throw new InvalidInputError(`the organisation allows uploads of at most ${policy.maxUploadBytes} bytes; choose a smaller maxUploadBytes`)
    return { expiresAt: end, uploadOnly, maxUploadBytes: maxUploadBytes ?? policy.maxUploadBytes }
  }
  if (maxUploadBytes !== undefined) throw new InvalidInputError('maxUploadBytes is for upload-only links; leave it out or set uploadOnly')
  return { expiresAt: end, uploadOnly, ...(maxDownloads === undefined ? {} : { maxDownloads }) }
}

/** A policy an administrator set, or InvalidInputError. */
export function checkSharePolicy (policy: SharePolicy): SharePolicy {
  const { maxLifetimeSeconds, maxUploadBytes, passwordRequired } = policy
  const within = (value: number, { min, max }: { min: number, max: number }): boolean => Number.isSafeInteger(value) && value >= min && value <= max
  if (!within(maxLifetimeSeconds, SHARE_POLICY_LIMITS.maxLifetimeSeconds)) throw new InvalidInputError('maxLifetimeSeconds must be a whole number from 60 (a minute) to 31622400 (366 days)')
  if (!within(maxUploadBytes, SHARE_POLICY_LIMITS.maxUploadBytes)) throw new InvalidInputError('maxUploadBytes must be a whole number of bytes, at least 1')
  return { maxLifetimeSeconds, passwordRequired, maxUploadBytes }
}

export type ShareState = 'active' | 'expired' | 'revoked' | 'exhausted'

export interface ShareLifecycle {
  expiresAt: Date
  revokedAt?: Date
  maxDownloads?: number
  downloads: number
}

/** Revoked wins over expired, expired over exhausted: the page tells the most useful reason. */
export function shareState (link: ShareLifecycle, now: Date): ShareState {
  if (link.revokedAt !== undefined && link.revokedAt.getTime() <= now.getTime()) return 'revoked'
  if (link.expiresAt.getTime() <= now.getTime()) return 'expired'
  if (link.maxDownloads !== undefined && link.downloads >= link.maxDownloads) return 'exhausted'
  return 'active'
}
