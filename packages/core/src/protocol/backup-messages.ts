import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'

/**
 * `/aerie/backup/1.1.0` (1.0.0 without compression): a device's endpoint backups on the team
 * server (docs/protocol.md). One stream carries many requests, each a length-prefixed frame
 * whose first byte is its kind; the server answers each, in order, with a frame whose first byte
 * is a status. The device may keep up to BACKUP_WINDOW requests in flight.
 *
 * - LACKS: 32-byte ids (at most MAX_LACKS) → one byte per id, 1 where the server lacks it
 * - PUT: a 32-byte id and the blob's bytes → OK once stored (the server verifies the hash first)
 * - PUT_COMPRESSED (1.1.0): a 32-byte id, the blob's size (4 bytes, big-endian) and the blob
 *   zstd-compressed (shorter than the blob) → as PUT; the store keeps it compressed
 * - GET: a 32-byte id → the blob, only if it belongs to a snapshot this device opened (on
 *   1.1.0, a file's chunk the store keeps compressed comes as OK_COMPRESSED)
 * - REQUEST: JSON `list` | `open` | `commit` → JSON. There is no message that deletes or
 *   rewrites a snapshot: a device can only add them.
 */
export const BACKUP_PROTOCOL = '/aerie/backup/1.1.0'
/** The first version, without PUT_COMPRESSED: a server that speaks only it gets plain puts. */
export const BACKUP_PROTOCOL_1_0 = '/aerie/backup/1.0.0'
/** The chunk store's own limit: directory objects are the largest blobs. */
export const MAX_BACKUP_BLOB = 16 * 1024 * 1024
export const MAX_BACKUP_FRAME = 1 + 32 + MAX_BACKUP_BLOB
export const MAX_LACKS = 1024
/**
 * Requests a device may keep in flight. Puts are answered once stored (fsynced), so this must
 * hold more than one group commit of small chunks: at 256, about 6 MiB of 24 KiB chunks, the
 * server committed in driblets and sat idle between them.
 */
export const BACKUP_WINDOW = 1024
export const MAX_BACKUP_JSON = 1024 * 1024

export const BACKUP_LACKS = 1
export const BACKUP_PUT = 2
export const BACKUP_GET = 3
export const BACKUP_REQUEST = 4
export const BACKUP_PUT_COMPRESSED = 5

export const BACKUP_OK = 0
export const BACKUP_NOT_FOUND = 1
/** Not this device's to read (a blob outside the snapshots it opened). */
export const BACKUP_REFUSED = 2
/** Followed by JSON `{ code, message }`. */
export const BACKUP_ERROR = 3
/** 1.1.0, to a get of a file's chunk the store keeps compressed: its size (4 bytes, big-endian), then the chunk compressed. */
export const BACKUP_OK_COMPRESSED = 4

export type OpenPurpose = 'browse' | 'restore' | 'parent'

export type BackupRequest =
  | { type: 'list' }
  /** `id`: a snapshot id, a unique prefix of one (4+ characters), or `latest`. */
  | { type: 'open', id: string, purpose: OpenPurpose }
  | { type: 'commit', snapshot: NewSnapshot }

export interface NewSnapshot {
  /** The root directory object's id (hex). */
  root: string
  paths: string[]
  startedAt: string
  /** What the device counted (files, bytes, changed, skipped, …). */
  counters: Record<string, number>
}

export interface SnapshotSummary extends NewSnapshot {
  id: string
  deviceId: string
  deviceName: string
  user: string
  committedAt: string
  /** What the server received on the stream that committed it: blobs and bytes it lacked. */
  received: { chunks: number, bytes: number }
}

export type BackupResponse =
  | { type: 'snapshots', snapshots: SnapshotSummary[] }
  | { type: 'snapshot', snapshot: SnapshotSummary }

const bad = (what: string): ProtocolError => new ProtocolError(`bad backup request: ${what}`)

export function parseBackupRequest (input: unknown): BackupRequest {
  const m = input as Record<string, unknown> | null
  if (typeof m !== 'object' || m === null) throw bad('not an object')
  switch (m.type) {
    case 'list': return { type: 'list' }
    case 'open':
      if (typeof m.id !== 'string' || !/^([0-9a-f]{4,32}|latest)$/.test(m.id)) throw bad('id is not a snapshot id')
      if (m.purpose !== 'browse' && m.purpose !== 'restore' && m.purpose !== 'parent') throw bad('purpose is not browse, restore or parent')
      return { type: 'open', id: m.id, purpose: m.purpose }
    case 'commit': return { type: 'commit', snapshot: parseNewSnapshot(m.snapshot, bad) }
    default: throw bad('type is not list, open or commit (a snapshot cannot be deleted or changed)')
  }
}

export function parseBackupResponse (input: unknown): BackupResponse {
  const m = input as Record<string, unknown> | null
  const wrong = (what: string): ProtocolError => new ProtocolError(`bad backup answer: ${what}`)
  if (typeof m !== 'object' || m === null) throw wrong('not an object')
  if (m.type === 'snapshot') return { type: 'snapshot', snapshot: parseSnapshotSummary(m.snapshot) }
  if (m.type === 'snapshots' && Array.isArray(m.snapshots) && m.snapshots.length <= 100_000) return { type: 'snapshots', snapshots: m.snapshots.map(parseSnapshotSummary) }
  throw wrong('unknown type')
}

export function parseSnapshotSummary (input: unknown): SnapshotSummary {
  const wrong = (what: string): ProtocolError => new ProtocolError(`bad snapshot: ${what}`)
  const s = input as Record<string, unknown> | null
  if (typeof s !== 'object' || s === null) throw wrong('not an object')
  const base = parseNewSnapshot(s, wrong)
  const received = s.received as Record<string, unknown> | null
  if (typeof s.id !== 'string' || typeof s.deviceId !== 'string' || typeof s.deviceName !== 'string' || typeof s.user !== 'string' ||
    typeof s.committedAt !== 'string' || typeof received !== 'object' || received === null ||
    !Number.isSafeInteger(received.chunks) || !Number.isSafeInteger(received.bytes)) throw wrong('a field is missing')
  return { ...base, id: s.id, deviceId: s.deviceId, deviceName: s.deviceName, user: s.user, committedAt: s.committedAt, received: { chunks: received.chunks as number, bytes: received.bytes as number } }
}

function parseNewSnapshot (input: unknown, wrong: (what: string) => ProtocolError): NewSnapshot {
  const s = input as Record<string, unknown> | null
  if (typeof s !== 'object' || s === null) throw wrong('snapshot is not an object')
  if (typeof s.root !== 'string' || !/^[0-9a-f]{64}$/.test(s.root)) throw wrong('root is not a 64-hex-digit id')
  if (!Array.isArray(s.paths) || s.paths.length === 0 || s.paths.length > 1000 || !s.paths.every(p => typeof p === 'string' && p.startsWith('/') && p.length <= 4096)) {
    throw wrong('paths is not a list of absolute paths')
  }
  if (typeof s.startedAt !== 'string' || Number.isNaN(Date.parse(s.startedAt))) throw wrong('startedAt is not a date-time')
  const counters = s.counters as Record<string, unknown> | null
  if (typeof counters !== 'object' || counters === null || Object.keys(counters).length > 32 ||
    !Object.entries(counters).every(([k, v]) => k.length <= 32 && Number.isSafeInteger(v) && (v as number) >= 0)) {
    throw wrong('counters is not a set of whole numbers')
  }
  return { root: s.root, paths: s.paths as string[], startedAt: new Date(s.startedAt).toISOString(), counters: counters as Record<string, number> }
}

/** A frame kept as the parts it was made of or arrived in (`get(0)` is its first byte). */
export type FrameParts = Uint8ArrayList

/** backupFrame without joining the parts: a blob's bytes go out as they are, not copied. */
export function backupFrameParts (first: number, ...parts: Uint8Array[]): FrameParts {
  return new Uint8ArrayList(Uint8Array.of(first), ...parts)
}

/** A frame: its kind or status byte, then its parts. */
export function backupFrame (first: number, ...parts: Uint8Array[]): Uint8Array {
  const frame = new Uint8Array(1 + parts.reduce((n, p) => n + p.byteLength, 0))
  frame[0] = first
  let at = 1
  for (const part of parts) { frame.set(part, at); at += part.byteLength }
  return frame
}

/** A blob's size as compressed puts and answers carry it: 4 bytes, big-endian. */
export function sizeField (size: number): Uint8Array {
  const field = new Uint8Array(4)
  new DataView(field.buffer).setUint32(0, size)
  return field
}

/** The size sizeField wrote, at `at`. */
export function readSizeField (bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0)
}
