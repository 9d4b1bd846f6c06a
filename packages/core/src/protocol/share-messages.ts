import { ProtocolError } from '../errors.ts'

/**
 * `/aerie/share/1.0.0`: a device asks the team server to make, list or revoke share links for
 * its user (the e-mail its certificate names), one request per stream, one answer. The server
 * checks membership of the folder and applies the organisation's policy; the link's token is in
 * the `created` answer's URL and nowhere else.
 */
export const SHARE_PROTOCOL = '/aerie/share/1.0.0'
export const MAX_SHARE_REQUEST = 8 * 1024
export const MAX_SHARE_RESPONSE = 1024 * 1024

export interface ShareCreateRequest {
  type: 'create'
  folder: string
  /** '' for the whole folder. */
  path: string
  /** Seconds from now. */
  expiresIn: number
  password?: string
  maxDownloads?: number
  uploadOnly?: boolean
  maxUploadBytes?: number
  snapshot?: boolean
}

export type DeviceShareRequest = ShareCreateRequest | { type: 'list' } | { type: 'revoke', id: string }

/** A link as its owner sees it (never its token). */
export interface ShareSummary {
  id: string
  folder: string
  path: string
  kind: 'file' | 'folder'
  state: string
  expiresAt: string
  downloads: number
  maxDownloads?: number
  uploadOnly: boolean
  hasPassword: boolean
}

export type DeviceShareResponse =
  | { type: 'created', link: ShareSummary, url: string }
  | { type: 'links', links: ShareSummary[] }
  | { type: 'revoked', id: string }
  | { type: 'error', code: string, message: string }

const bad = (what: string): ProtocolError => new ProtocolError(`bad share request: ${what}`)

export function parseShareRequest (input: unknown): DeviceShareRequest {
  const m = input as Record<string, unknown> | null
  if (typeof m !== 'object' || m === null) throw bad('not an object')
  if (m.type === 'list') return { type: 'list' }
  if (m.type === 'revoke') {
    if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > 64) throw bad('id is not a link id')
    return { type: 'revoke', id: m.id }
  }
  if (m.type !== 'create') throw bad('type is not create, list or revoke')
  if (typeof m.folder !== 'string' || m.folder === '' || m.folder.length > 256) throw bad('folder is not a string of 1 to 256 characters')
  if (typeof m.path !== 'string' || m.path.length > 4096) throw bad('path is not a string of at most 4096 characters')
  if (!Number.isSafeInteger(m.expiresIn) || (m.expiresIn as number) < 1) throw bad('expiresIn is not a whole number of seconds')
  const request: ShareCreateRequest = { type: 'create', folder: m.folder, path: m.path, expiresIn: m.expiresIn as number }
  if (m.password !== undefined) {
    if (typeof m.password !== 'string' || m.password.length > 1024) throw bad('password is not a string of at most 1024 characters')
    request.password = m.password
  }
  for (const key of ['maxDownloads', 'maxUploadBytes'] as const) {
    if (m[key] === undefined) continue
    if (!Number.isSafeInteger(m[key]) || (m[key] as number) < 1) throw bad(`${key} is not a whole number from 1`)
    request[key] = m[key] as number
  }
  for (const key of ['uploadOnly', 'snapshot'] as const) {
    if (m[key] === undefined) continue
    if (typeof m[key] !== 'boolean') throw bad(`${key} is not true or false`)
    request[key] = m[key] as boolean
  }
  return request
}

export function parseShareResponse (input: unknown): DeviceShareResponse {
  const m = input as Record<string, unknown> | null
  if (typeof m !== 'object' || m === null) throw new ProtocolError('bad share answer: not an object')
  switch (m.type) {
    case 'error': return { type: 'error', code: String(m.code ?? 'ERR_PROTOCOL'), message: String(m.message ?? '').slice(0, 2000) }
    case 'revoked': return { type: 'revoked', id: String(m.id) }
    case 'created':
      if (typeof m.url !== 'string') throw new ProtocolError('bad share answer: no url')
      return { type: 'created', link: parseSummary(m.link), url: m.url }
    case 'links':
      if (!Array.isArray(m.links) || m.links.length > 10_000) throw new ProtocolError('bad share answer: links is not a list')
      return { type: 'links', links: m.links.map(parseSummary) }
    default: throw new ProtocolError('bad share answer: unknown type')
  }
}

function parseSummary (input: unknown): ShareSummary {
  const s = input as Record<string, unknown> | null
  if (typeof s !== 'object' || s === null || typeof s.id !== 'string' || typeof s.folder !== 'string' || typeof s.path !== 'string' ||
    (s.kind !== 'file' && s.kind !== 'folder') || typeof s.state !== 'string' || typeof s.expiresAt !== 'string' ||
    !Number.isSafeInteger(s.downloads) || typeof s.uploadOnly !== 'boolean' || typeof s.hasPassword !== 'boolean' ||
    (s.maxDownloads !== undefined && !Number.isSafeInteger(s.maxDownloads))) {
    throw new ProtocolError('bad share answer: a link is malformed')
  }
  return {
    id: s.id, folder: s.folder, path: s.path, kind: s.kind, state: s.state, expiresAt: s.expiresAt, downloads: s.downloads as number,
    uploadOnly: s.uploadOnly, hasPassword: s.hasPassword, ...(s.maxDownloads === undefined ? {} : { maxDownloads: s.maxDownloads as number })
  }
}
