import type { VersionVector } from './version-vector.ts'

/** One piece of a file's content, named by its SHA-256. Offsets are the running sum of sizes. */
export interface ChunkRef {
  hash: Uint8Array
  size: number
}

export type FileType = 'file' | 'dir' | 'symlink'

/** What a device knows about one path of a folder; a deleted file stays as a tombstone. */
export interface FileRecord {
  /** Relative, '/'-separated, NFC (see path-rules.ts). */
  path: string
  type: FileType
  size: number
  mtimeMs: number
  /** Permission bits only (0o777). */
  mode: number
  deleted: boolean
  chunks: ChunkRef[]
  /** The link's target, for a symlink that is not deleted. */
  target?: string
  version: VersionVector
  sequence: number
  /** The device that made this version. */
  modifiedBy: string
}

/** What the scanner saw on disk for one path. */
export interface LocalChange {
  path: string
  type: FileType
  size: number
  mtimeMs: number
  /** stat's mode is fine: the index keeps only the permission bits. */
  mode: number
  deleted: boolean
  chunks: ChunkRef[]
  target?: string
  /** Local only, never announced: lets the scanner recognise a rename. */
  inode?: number
}

/** The fields that describe what is on disk (not who changed it or when it was announced). */
export type Content = Pick<FileRecord, 'type' | 'size' | 'mtimeMs' | 'mode' | 'deleted' | 'chunks' | 'target'>

/** What the scanner compares with the disk to tell an unchanged file from a changed one. */
export interface LocalStat {
  type: FileType
  size: number
  mtimeMs: number
  mode: number
  target?: string
  /** Local only: a file replaced by another (an atomic save) has a new inode. */
  inode?: number
}
