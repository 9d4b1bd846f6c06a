import { pathProblem } from './path-rules.ts'
import { FILE_TYPES, HASH_BYTES, MAX_CHUNK_SIZE } from './record-codec.ts'
import type { ChunkRef, Content, FileRecord, LocalChange } from './types.ts'
import { versionProblem } from './version-vector.ts'

/**
 * The scanner's view in the one form the index stores: permission bits only, and no size,
 * chunks or target where they mean nothing, so an unchanged file always compares equal.
 */
export function normaliseChange (change: LocalChange): LocalChange {
  // A symlink's own mode means nothing (Linux says 0o777, macOS 0o755): one value everywhere.
  const mode = change.type === 'symlink' ? 0o777 : typeof change.mode === 'number' ? change.mode & 0o777 : change.mode
  const keepsContent = change.type === 'file' && !change.deleted
  const normal: LocalChange = {
    path: change.path,
    type: change.type,
    size: keepsContent ? change.size : 0,
    mtimeMs: change.mtimeMs,
    mode,
    deleted: change.deleted,
    chunks: keepsContent ? change.chunks : []
  }
  if (change.type === 'symlink' && !change.deleted) normal.target = change.target
  if (change.inode !== undefined) normal.inode = change.inode
  return normal
}

/** Why a record's content is not storable, or undefined when it is. Expects the normal form. */
export function contentProblem (record: Content & { path: string }): string | undefined {
  const problem = pathProblem(record.path)
  if (problem !== undefined) return problem
  if (!FILE_TYPES.includes(record.type)) return `the type "${String(record.type)}" is not file, dir or symlink`
  if (typeof record.deleted !== 'boolean') return 'deleted is not true or false'
  if (typeof record.mtimeMs !== 'number' || !Number.isFinite(record.mtimeMs)) return 'the modification time is not a number'
  if (!Number.isInteger(record.mode) || record.mode < 0 || record.mode > 0o777) return 'the mode is not permission bits (0 to 0o777)'
  if (!Number.isSafeInteger(record.size) || record.size < 0) return 'the size is not a whole number >= 0'
  if (!Array.isArray(record.chunks)) return 'the chunk list is not a list'
  const hasContent = record.type === 'file' && !record.deleted
  if (!hasContent && (record.size !== 0 || record.chunks.length !== 0)) return 'only a file that exists has a size and chunks'
  let total = 0
  for (const chunk of record.chunks) {
    const problem = chunkProblem(chunk)
    if (problem !== undefined) return problem
    total += chunk.size
  }
  if (total !== record.size) return `the chunks add up to ${total} bytes, not the size ${record.size}`
  if (record.type === 'symlink' && !record.deleted) {
    if (typeof record.target !== 'string' || record.target === '' || record.target.includes('\0')) return 'a symlink needs a target without NUL'
  } else if (record.target !== undefined) {
    return 'only a symlink that exists has a target'
  }
  return undefined
}

/** Everything contentProblem checks, plus what a peer announces with it. */
export function recordProblem (record: FileRecord): string | undefined {
  if (typeof record !== 'object' || record === null) return 'the record is not an object'
  const problem = contentProblem(record) ?? versionProblem(record.version)
  if (problem !== undefined) return problem
  if (!Object.values(record.version).some(counter => counter > 0)) return 'the version is empty'
  if (!Number.isSafeInteger(record.sequence) || record.sequence < 1) return 'the sequence is not a whole number >= 1'
  if (typeof record.modifiedBy !== 'string' || record.modifiedBy === '') return 'modifiedBy is not a device id'
  return undefined
}

function chunkProblem (chunk: ChunkRef): string | undefined {
  if (typeof chunk !== 'object' || chunk === null || !(chunk.hash instanceof Uint8Array) || chunk.hash.length !== HASH_BYTES) {
    return `a chunk hash is not ${HASH_BYTES} bytes`
  }
  if (!Number.isInteger(chunk.size) || chunk.size < 1 || chunk.size > MAX_CHUNK_SIZE) return 'a chunk size is not between 1 and 2^32-1'
  return undefined
}
