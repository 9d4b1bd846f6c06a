import { ProtocolError } from '../errors.ts'

/**
 * `/aerie/versions/1.0.0`: a member asks the team server about the central copy's version
 * history of a path: one request per stream, one answer. `list` gives the versions the server
 * keeps of a file (or of every file under a directory), `restore` makes the version that was
 * current at `at` the file's newest version, which then syncs to every member like any change.
 */
export const VERSIONS_PROTOCOL = '/aerie/versions/1.0.0'
export const MAX_VERSIONS_REQUEST = 4096
export const MAX_VERSIONS_RESPONSE = 1024 * 1024
/** Versions in one answer; a directory with more gets the newest. */
export const MAX_VERSIONS_LISTED = 1000

export type VersionsRequest =
  | { type: 'list', folder: string, path: string }
  | { type: 'restore', folder: string, path: string, at: string }

/** One kept version: its content's size and mtime, who made it, and when it was replaced. */
export interface ServerVersion {
  path: string
  size: number
  mtimeMs: number
  modifiedBy: string
  /** Absent for the current version. */
  replacedAt?: string
  deleted: boolean
}

export type VersionsResponse =
  | { type: 'versions', versions: ServerVersion[] }
  | { type: 'restored', version: ServerVersion }
  | { type: 'error', code: string, message: string }

export function parseVersionsRequest (input: unknown): VersionsRequest {
  const message = input as Record<string, unknown> | null
  if (typeof message !== 'object' || message === null) throw new ProtocolError('bad versions request: not an object')
  const { type, folder, path, at } = message
  if (type !== 'list' && type !== 'restore') throw new ProtocolError('bad versions request: type is neither list nor restore')
  if (typeof folder !== 'string' || folder === '' || folder.length > 256) throw new ProtocolError('bad versions request: folder is not a string of 1 to 256 characters')
  if (typeof path !== 'string' || path.length > 4096 || path.startsWith('/') || path.split('/').some(part => part === '..')) {
    throw new ProtocolError('bad versions request: path is not a relative folder path')
  }
  if (type === 'list') return { type, folder, path }
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new ProtocolError('bad versions request: at is not a date-time')
  return { type, folder, path, at }
}

export function parseVersionsResponse (input: unknown): VersionsResponse {
  const message = input as Record<string, unknown> | null
  if (typeof message !== 'object' || message === null) throw new ProtocolError('bad versions answer: not an object')
  if (message.type === 'error') return { type: 'error', code: String(message.code ?? 'ERR_PROTOCOL'), message: String(message.message ?? '').slice(0, 1000) }
  if (message.type === 'versions' && Array.isArray(message.versions) && message.versions.length <= MAX_VERSIONS_LISTED) {
    return { type: 'versions', versions: message.versions.map(parseVersion) }
  }
  if (message.type === 'restored') return { type: 'restored', version: parseVersion(message.version) }
  throw new ProtocolError('bad versions answer: unknown type')
}

function parseVersion (input: unknown): ServerVersion {
  const v = input as Record<string, unknown> | null
  if (typeof v !== 'object' || v === null || typeof v.path !== 'string' || typeof v.modifiedBy !== 'string' ||
    !Number.isSafeInteger(v.size) || (v.size as number) < 0 || typeof v.mtimeMs !== 'number' || typeof v.deleted !== 'boolean' ||
    (v.replacedAt !== undefined && (typeof v.replacedAt !== 'string' || Number.isNaN(Date.parse(v.replacedAt))))) {
    throw new ProtocolError('bad versions answer: a version is malformed')
  }
  return { path: v.path, size: v.size as number, mtimeMs: v.mtimeMs, modifiedBy: v.modifiedBy, deleted: v.deleted, ...(v.replacedAt === undefined ? {} : { replacedAt: v.replacedAt as string }) }
}
