import { ProtocolError } from '../errors.ts'
import { decodeChunks, encodeChunks } from '../index/record-codec.ts'
import type { FileRecord } from '../index/index.ts'

/**
 * `/aerie/index/1.0.0`: each device opens one stream to each connected peer and only writes
 * on it; what it reads comes on the stream the peer opened. Messages are JSON, one per
 * length-prefixed frame of at most MAX_INDEX_MESSAGE bytes (docs/protocol.md).
 *
 * - `folder`: sent for every folder the peer is a member of, at connect and whenever the
 *   membership changes. Carries the signed membership record, our index id and sequence, and
 *   what we already hold of the peer's records (`have`), so the peer sends only what follows.
 * - `index`: a batch of our own file records, ascending by sequence.
 */
export const INDEX_PROTOCOL = '/aerie/index/1.0.0'
export const MAX_INDEX_MESSAGE = 4 * 1024 * 1024
/** Records per `index` message; with chunk lists of small files well under the size limit. */
export const INDEX_BATCH = 500

export interface FolderMessage {
  type: 'folder'
  folder: string
  /** The signed membership record, checked by the sync layer (sync/membership.ts). */
  membership: unknown
  indexId: string
  sequence: number
  have: { indexId: string, sequence: number }
}

export interface IndexMessage {
  type: 'index'
  folder: string
  records: FileRecord[]
}

export type IndexProtocolMessage = FolderMessage | IndexMessage

/** A file record as JSON: the chunk list is the index's own binary form, base64. */
interface WireRecord {
  path: string
  type: string
  size: number
  mtimeMs: number
  mode: number
  deleted: boolean
  chunks: string
  target?: string
  version: Record<string, number>
  sequence: number
  modifiedBy: string
}

export function encodeIndexMessage (message: IndexProtocolMessage): unknown {
  if (message.type === 'folder') return message
  return { type: 'index', folder: message.folder, records: message.records.map(wireRecord) }
}

/**
 * Checks a message's shape and types; what the values mean (paths, versions, sizes) is
 * checked again by the index before anything is stored.
 */
export function parseIndexMessage (input: unknown): IndexProtocolMessage {
  const message = object(input, 'message')
  const folder = text(message.folder, 'folder', 256)
  switch (message.type) {
    case 'folder': {
      const have = object(message.have, 'have')
      return {
        type: 'folder',
        folder,
        membership: message.membership,
        indexId: text(message.indexId, 'indexId', 64),
        sequence: count(message.sequence, 'sequence'),
        have: { indexId: text(have.indexId, 'have.indexId', 64, true), sequence: count(have.sequence, 'have.sequence') }
      }
    }
    case 'index': {
      if (!Array.isArray(message.records)) throw invalid('records is not a list')
      return { type: 'index', folder, records: message.records.map(fileRecord) }
    }
    default:
      throw invalid(`unknown message type ${JSON.stringify(String(message.type)).slice(0, 40)}`)
  }
}

function wireRecord (record: FileRecord): WireRecord {
  const wire: WireRecord = {
    path: record.path,
    type: record.type,
    size: record.size,
    mtimeMs: record.mtimeMs,
    mode: record.mode,
    deleted: record.deleted,
    chunks: Buffer.from(encodeChunks(record.chunks)).toString('base64'),
    version: { ...record.version },
    sequence: record.sequence,
    modifiedBy: record.modifiedBy
  }
  if (record.target !== undefined) wire.target = record.target
  return wire
}

function fileRecord (input: unknown): FileRecord {
  const wire = object(input, 'record')
  const chunkText = text(wire.chunks, 'chunks', MAX_INDEX_MESSAGE, true)
  let chunks
  try {
    chunks = decodeChunks(new Uint8Array(Buffer.from(chunkText, 'base64')))
  } catch (err) {
    throw invalid(`a chunk list cannot be read: ${(err as Error).message}`)
  }
  const record: FileRecord = {
    path: text(wire.path, 'path', 4096),
    type: text(wire.type, 'type', 16) as FileRecord['type'],
    size: count(wire.size, 'size'),
    mtimeMs: finite(wire.mtimeMs, 'mtimeMs'),
    mode: count(wire.mode, 'mode'),
    deleted: bool(wire.deleted, 'deleted'),
    chunks,
    version: object(wire.version, 'version') as Record<string, number>,
    sequence: count(wire.sequence, 'sequence'),
    modifiedBy: text(wire.modifiedBy, 'modifiedBy', 256)
  }
  if (wire.target !== undefined) record.target = text(wire.target, 'target', 4096)
  return record
}

function invalid (problem: string): ProtocolError {
  return new ProtocolError(`bad index message: ${problem}`)
}

function object (value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} is not an object`)
  return value as Record<string, unknown>
}

function text (value: unknown, what: string, max: number, emptyOk = false): string {
  if (typeof value !== 'string' || (!emptyOk && value === '') || value.length > max) throw invalid(`${what} is not a string of ${emptyOk ? 0 : 1} to ${max} characters`)
  return value
}

function count (value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${what} is not a whole number >= 0`)
  return value as number
}

function finite (value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${what} is not a number`)
  return value
}

function bool (value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${what} is not true or false`)
  return value
}
