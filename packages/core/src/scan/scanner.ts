import { lstatSync, readFileSync } from 'node:fs'
import { chunkFile, hashChunksOfBuffer } from '../chunking/index.ts'
import { FOLDER_MARKER, isDirectory, readFolderMarker } from './folder-marker.ts'
import { walkFolder } from './walk.ts'
import type { Chunk } from '../chunking/index.ts'
import type { FolderIndex, LocalChange, LocalStat } from '../index/index.ts'
import type { WalkEntry, WalkProblem } from './walk.ts'

/**
 * The scanner: walks a folder, compares what it finds with the folder's index, hashes
 * only what changed (same size, mtime, inode and mode means unchanged), and records
 * changes and deletions in one index update per batch.
 *
 * Safety brake (docs/goals.md, goal 1): if the folder root is missing, its marker is
 * gone (an unmounted disk looks like an empty folder), or more than `brakeFraction` of
 * its files vanished at once, the scan records nothing at all and says why; the folder
 * then waits for the user to confirm (`confirmDeletions`) or for the files to return.
 */
export type BrakeReason = 'root-missing' | 'marker-missing' | 'mass-deletion'

export interface ScanOptions {
  folderId: string
  root: string
  index: FolderIndex
  /** Paths (relative, NFC) that are never scanned: ignore patterns, temporary files. */
  ignore?: (path: string) => boolean
  /** Above this share of known files missing in one scan, nothing is recorded. Default 0.5. */
  brakeFraction?: number
  /** The user confirmed that the files really are gone: record the deletions anyway. */
  confirmDeletions?: boolean
  signal?: AbortSignal
  onProgress?(progress: ScanProgress): void
}

export interface ScanProgress { files: number, hashedBytes: number, changed: number }

export interface ScanResult extends ScanProgress {
  deleted: number
  brake?: BrakeReason
  problems: WalkProblem[]
}

/** Files whose changes are recorded per index transaction. */
const BATCH = 1_000
/** Files up to this size are read and hashed in one synchronous step (see describe). */
const SMALL_FILE = 1024 * 1024
/** Below this many known files, a mass deletion is not suspicious. */
const BRAKE_MIN_FILES = 10

export async function scanFolder (options: ScanOptions): Promise<ScanResult> {
  const { folderId, root, index, signal } = options
  const result: ScanResult = { files: 0, hashedBytes: 0, changed: 0, deleted: 0, problems: [] }
  if (!await isDirectory(root)) return { ...result, brake: 'root-missing' }
  if (await readFolderMarker(root) == null) return { ...result, brake: 'marker-missing' }

  const known = index.localStats(folderId)
  const skip = (path: string): boolean => path === FOLDER_MARKER || path.startsWith('.aerie-tmp-') || path.includes('/.aerie-tmp-') || (options.ignore?.(path) ?? false)

  // Changes are held until the walk is over: a brake must be able to discard all of them.
  const changes: LocalChange[] = []
  const seen = new Set<string>()
  for await (const entries of walkFolder(root, skip, (p) => result.problems.push(p))) {
    signal?.throwIfAborted()
    for (const entry of entries) {
      seen.add(entry.path)
      result.files++
      const before = known.get(entry.path)
      if (before != null && unchanged(before, entry)) continue
      const change = await describe(entry, result, signal)
      if (change != null) changes.push(change)
    }
    options.onProgress?.({ files: result.files, hashedBytes: result.hashedBytes, changed: changes.length })
  }

  const gone = [...known.keys()].filter(path => !seen.has(path) && !skip(path))
  const knownFiles = known.size
  if (!options.confirmDeletions && knownFiles >= BRAKE_MIN_FILES && gone.length > knownFiles * (options.brakeFraction ?? 0.5)) {
    return { ...result, changed: 0, brake: 'mass-deletion' }
  }
  for (const path of gone) {
    const before = known.get(path)!
    changes.push({ path, type: before.type, size: 0, mtimeMs: Date.now(), mode: before.mode, deleted: true, chunks: [] })
    result.deleted++
  }
  for (let i = 0; i < changes.length; i += BATCH) {
    index.updateLocal(folderId, changes.slice(i, i + BATCH))
  }
  result.changed = changes.length
  return result
}

function unchanged (before: LocalStat, now: WalkEntry): boolean {
  if (before.type !== now.type || before.mode !== now.mode) return false
  if (now.type === 'dir') return true
  if (now.type === 'symlink') return before.target === now.target
  return before.size === now.size && before.mtimeMs === now.mtimeMs && (before.inode === undefined || before.inode === now.inode)
}

/** What to record for an entry that is new or changed; undefined if it changed while we read it. */
async function describe (entry: WalkEntry, result: ScanResult, signal?: AbortSignal): Promise<LocalChange | undefined> {
  const base = { path: entry.path, type: entry.type, size: entry.size, mtimeMs: entry.mtimeMs, mode: entry.mode, deleted: false, inode: entry.inode }
  if (entry.type === 'dir') return { ...base, chunks: [] }
  if (entry.type === 'symlink') return { ...base, chunks: [], target: entry.target }
  let chunks: Chunk[]
  try {
    // Small files in one synchronous step: for them the thread pool's round trips (open,
    // read, close) cost far more than the hashing.
    chunks = entry.size <= SMALL_FILE ? hashChunksOfBuffer(readFileSync(entry.diskPath)) : await chunkFile(entry.diskPath, { signal })
  } catch (err) {
    if (signal?.aborted === true) throw err
    result.problems.push({ path: entry.path, message: `cannot read: ${(err as Error).message}` })
    return undefined
  }
  // Written to while we hashed it: what we hashed may be a mix. The next scan (or the
  // watcher's next event) records it once it is still.
  const after = lstatOrUndefined(entry.diskPath)
  const hashed = chunks.reduce((n, c) => n + c.size, 0)
  if (after == null || after.size !== entry.size || hashed !== entry.size || Math.floor(after.mtimeMs) !== entry.mtimeMs) return undefined
  result.hashedBytes += entry.size
  return { ...base, chunks: chunks.map(c => ({ hash: c.hash, size: c.size })) }
}

function lstatOrUndefined (path: string): { size: number, mtimeMs: number } | undefined {
  try { return lstatSync(path) } catch { return undefined }
}
