import type { SQLOutputValue } from 'node:sqlite'
import type { ChunkRef, Content, FileRecord, FileType } from './types.ts'
import { decodeVersion } from './version-vector.ts'

export const HASH_BYTES = 32
/** 32-byte SHA-256 + u32 size, big-endian. */
export const CHUNK_ENTRY_BYTES = HASH_BYTES + 4
export const MAX_CHUNK_SIZE = 0xffff_ffff

export const FILE_TYPES: readonly FileType[] = ['file', 'dir', 'symlink']

export function fileTypeCode (type: FileType): number {
  return FILE_TYPES.indexOf(type)
}

export function fileTypeFromCode (code: number): FileType {
  const type = FILE_TYPES[code]
  if (type === undefined) throw new RangeError(`unknown file type code ${code}`)
  return type
}

/** A chunk list as one BLOB: far smaller and faster than a row per chunk. */
export function encodeChunks (chunks: readonly ChunkRef[]): Uint8Array {
  const out = new Uint8Array(chunks.length * CHUNK_ENTRY_BYTES)
  let at = 0
  for (const { hash, size } of chunks) {
    out.set(hash, at)
    writeUint32(out, at + HASH_BYTES, size)
    at += CHUNK_ENTRY_BYTES
  }
  return out
}

/** The hashes are views into `blob`: one allocation per record, not per chunk. */
export function decodeChunks (blob: Uint8Array): ChunkRef[] {
  if (blob.length % CHUNK_ENTRY_BYTES !== 0) throw new RangeError(`a chunk list is a multiple of ${CHUNK_ENTRY_BYTES} bytes, not ${blob.length}`)
  const chunks: ChunkRef[] = []
  for (let at = 0; at < blob.length; at += CHUNK_ENTRY_BYTES) {
    chunks.push({ hash: blob.subarray(at, at + HASH_BYTES), size: readUint32(blob, at + HASH_BYTES) })
  }
  return chunks
}

// By hand: a DataView per record costs more than the arithmetic.
function writeUint32 (bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24
  bytes[at + 1] = value >>> 16
  bytes[at + 2] = value >>> 8
  bytes[at + 3] = value
}

function readUint32 (bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) * 0x100_0000) + (((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number))
}

/** A record's content as its columns in the files table. */
export interface StoredContent {
  type: number
  size: number
  mtime_ms: number
  mode: number
  deleted: number
  chunks: Uint8Array
  target: string | null
}

export function storeContent (content: Content): StoredContent {
  return {
    type: fileTypeCode(content.type),
    size: content.size,
    mtime_ms: content.mtimeMs,
    mode: content.mode,
    deleted: content.deleted ? 1 : 0,
    chunks: encodeChunks(content.chunks),
    target: content.target ?? null
  }
}

/** Same content on disk, so a scan that finds it changed nothing. Two tombstones of one type are the same. */
export function sameStoredContent (a: StoredContent, b: StoredContent): boolean {
  if (a.deleted !== 0 || b.deleted !== 0) return a.deleted === b.deleted && a.type === b.type
  return a.type === b.type && a.size === b.size && a.mtime_ms === b.mtime_ms && a.mode === b.mode &&
    a.target === b.target && sameBytes(a.chunks, b.chunks)
}

/**
 * The files columns a record is read from, in this order. Hot statements read rows as arrays
 * (setReturnArrays): about three times faster than row objects at 100k rows.
 */
export const FILE_COLUMNS = 'f.path, f.type, f.size, f.mtime_ms, f.mode, f.deleted, f.chunks, f.target, f.version, f.sequence, f.modified_by, f.inode'
/** FILE_COLUMNS and the holder, for statements that read several devices' records. */
export const HELD_COLUMNS = `${FILE_COLUMNS}, f.device, d.device_id`
export const COL = {
  path: 0, type: 1, size: 2, mtimeMs: 3, mode: 4, deleted: 5, chunks: 6, target: 7, version: 8, sequence: 9, modifiedBy: 10, inode: 11,
  device: 12, deviceId: 13
} as const

export type FileRow = readonly SQLOutputValue[]

/** The stored content of a row read with FILE_COLUMNS. */
export function rowContent (row: FileRow): StoredContent {
  const target = row[COL.target]
  return {
    type: Number(row[COL.type]),
    size: Number(row[COL.size]),
    mtime_ms: Number(row[COL.mtimeMs]),
    mode: Number(row[COL.mode]),
    deleted: Number(row[COL.deleted]),
    chunks: row[COL.chunks] as Uint8Array,
    target: target === null || target === undefined ? null : String(target)
  }
}

/** The inode is this device's own rename hint, so only the local side shows it. */
export function recordFromRow (row: FileRow, withInode = false): FileRecord & { inode?: number } {
  const record: FileRecord & { inode?: number } = {
    path: String(row[COL.path]),
    type: fileTypeFromCode(Number(row[COL.type])),
    size: Number(row[COL.size]),
    mtimeMs: Number(row[COL.mtimeMs]),
    mode: Number(row[COL.mode]),
    deleted: row[COL.deleted] === 1,
    chunks: decodeChunks(row[COL.chunks] as Uint8Array),
    version: decodeVersion(String(row[COL.version])),
    sequence: Number(row[COL.sequence]),
    modifiedBy: String(row[COL.modifiedBy])
  }
  const target = row[COL.target]
  if (target !== null && target !== undefined) record.target = String(target)
  const inode = row[COL.inode]
  if (withInode && inode !== null && inode !== undefined) record.inode = Number(inode)
  return record
}

export function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
