import { pathProblem } from '@aerie/core'

/**
 * File names as they cross the share pages (and the console's snapshot downloads): the type and
 * download name a browser is told, the names an outsider's upload may take, and the paths a
 * folder link may serve.
 */

const TYPES: Record<string, string> = {
  txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', html: 'text/html', htm: 'text/html', css: 'text/css', js: 'text/javascript',
  json: 'application/json', xml: 'application/xml', pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip',
  tar: 'application/x-tar', '7z': 'application/x-7z-compressed', rtf: 'application/rtf',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml',
  avif: 'image/avif', heic: 'image/heic', tif: 'image/tiff', tiff: 'image/tiff', bmp: 'image/bmp', ico: 'image/x-icon',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac',
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska', avi: 'video/x-msvideo'
}

/** The Content-Type for a file name, by its extension (application/octet-stream when unknown). */
export function contentTypeOf (name: string): string {
  const dot = name.lastIndexOf('.')
  return (dot > 0 ? TYPES[name.slice(dot + 1).toLowerCase()] : undefined) ?? 'application/octet-stream'
}

/** A downloaded file is never a page of this origin: no script, no plugin, no same-origin access. */
export const DOWNLOAD_CSP = "default-src 'none'; sandbox"

/**
 * `attachment` with an ASCII fallback name for old clients and the exact name in UTF-8
 * (RFC 6266, RFC 8187): quotes, backslashes, control characters and non-ASCII never break
 * the header.
 */
export function contentDisposition (name: string): string {
  const fallback = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`
}

/**
 * A name for an outsider's upload: its last path segment only, without control characters or
 * what Windows refuses, trimmed, at most 200 bytes of UTF-8 (room for " (NNN)"), never empty.
 */
export function uploadName (raw: string): string {
  let name = raw.normalize('NFC').split(/[/\\]/).at(-1) ?? ''
  name = name.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[. ]+|[. ]+$/g, '')
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(name)) name = `_${name}`
  while (Buffer.byteLength(name) > 200) {
    const dot = name.lastIndexOf('.')
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
    name = Array.from(name.slice(0, name.length - ext.length)).slice(0, -1).join('') + ext
  }
  return name === '' ? 'upload' : name
}

/** `name (2).ext`, `name (3).ext`, …: the n-th name to try when `name` is taken. */
export function numberedName (name: string, n: number): string {
  if (n < 2) return name
  const dot = name.lastIndexOf('.')
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`
}

/**
 * The folder path of `sub` inside a link that shares `root` ('' the folder's root), or undefined
 * when `sub` would leave it (`..`, absolute, backslashes, NUL, not NFC…): the caller answers 404.
 */
export function pathInside (root: string, sub: string): string | undefined {
  if (sub === '') return root
  if (pathProblem(sub) !== undefined) return undefined
  return root === '' ? sub : `${root}/${sub}`
}
