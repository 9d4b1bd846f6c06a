import type { VersionVector } from './version-vector.ts'

/** One piece of a file's content, named by its SHA-256. Offsets are the running sum of sizes. */
export interface ChunkRef {
  hash: Uint8Array
  size: number
}

export type FileType = 'file' | 'dir' | 'symlink'

/** The fields that describe what is on disk (not who changed it or when it was announced). */
export interface Content {
  type: FileType
  size: number
  mtimeMs: number
  /** Permission bits only (0o777); from the scanner, stat's whole mode is fine. */
  mode: number
  deleted: boolean
  chunks: ChunkRef[]
  /** The link's target, for a symlink that is not deleted. */
  target?: string
}

/** What a device knows about one path of a folder; a deleted file stays as a tombstone. */
export interface FileRecord extends Content {
  /** Relative, '/'-separated, NFC (see path-rules.ts). */
  path: string
  version: VersionVector
  sequence: number
  /** The device that made this version. */
  modifiedBy: string
}

/** What the scanner saw on disk for one path. */
export interface LocalChange extends Content {
  path: string
  /** Local only, never announced: lets the scanner recognise a rename or an atomic save. */
  inode?: number
}

/** What the scanner compares with the disk to tell an unchanged file from a changed one. */
export type LocalStat = Omit<Content, 'deleted' | 'chunks'> & Pick<LocalChange, 'inode'>

/** Some paths of a folder: `paths` themselves, and everything below the directories `below`. */
export interface StatScope {
  paths: Iterable<string>
  below: Iterable<string>
}
