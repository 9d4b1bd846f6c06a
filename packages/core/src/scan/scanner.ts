import { lstatSync, readFileSync } from 'node:fs'
import { chunkFile, hashChunksOfBuffer } from '../chunking/index.ts'
import { pathProblem } from '../index/index.ts'
import { isDirectory, readFolderMarker } from './folder-marker.ts'
import { loadIgnoreRules } from './ignore-rules.ts'
import { CaseClashes, portabilityProblem } from './portable-names.ts'
import { findOnDisk, statEntry, walkFolder } from './walk.ts'
import type { Chunk } from '../chunking/index.ts'
import type { FolderIndex, LocalChange, LocalStat } from '../index/index.ts'
import type { IgnoreRules } from './ignore-rules.ts'
import type { Listings, WalkEntry, WalkOptions, WalkProblem } from './walk.ts'

/**
 * The scanner: walks a folder, compares what it finds with the folder's index, hashes
 * only what changed (same size, mtime, inode and mode means unchanged), and records
 * changes and deletions in one index update per batch. What the ignore rules skip is
 * never recorded, and a recorded path that becomes ignored is not deleted: it is just no
 * longer synced.
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
  /** Paths (relative, NFC) never scanned besides those of the ignore rules (see ignore-rules.ts). */
  ignore?: (path: string, isDir: boolean) => boolean
  /** The rules the previous scan returned: reused unless `.aerieignore` changed since. */
  ignoreRules?: IgnoreRules
  /**
   * Scan only these paths (relative, NFC; a directory with everything below it), e.g. what
   * a watcher saw change: their new parent directories are recorded too, and deletions only
   * within them. Without it, or with '' among them, the whole folder is scanned; so it is
   * when `.aerieignore` changed since `ignoreRules`, as new rules may reveal files anywhere.
   */
  paths?: readonly string[]
  /** Above this share of the folder's known files missing in one scan, nothing is recorded. Default 0.5. */
  brakeFraction?: number
  /**
   * Deletions recorded since the last scan of the whole folder (by scoped scans): counted
   * with this scan's, so that a mass deletion the watcher reports in many batches still brakes.
   */
  deletedBefore?: number
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
  /** Only `paths` were scanned, not the whole folder. */
  scoped: boolean
  /** Files, directories and symlinks the index holds for the folder after this scan (not set after a brake). */
  total?: number
  /** The rules this scan used (not set when the folder root or marker is missing): pass them to the next scan. */
  ignoreRules?: IgnoreRules
}

/** Files whose changes are recorded per index transaction. */
const BATCH = 1_000
/** Files up to this size are read and hashed in one synchronous step (see describe). */
const SMALL_FILE = 1024 * 1024
/** Below this many known files, a mass deletion is not suspicious. */
const BRAKE_MIN_FILES = 10

export async function scanFolder (options: ScanOptions): Promise<ScanResult> {
  const { folderId, root, index, signal } = options
  const result: ScanResult = { files: 0, hashedBytes: 0, changed: 0, deleted: 0, problems: [], scoped: false }
  if (!await isDirectory(root)) return { ...result, brake: 'root-missing' }
  if (await readFolderMarker(root) == null) return { ...result, brake: 'marker-missing' }
  const rules = await loadIgnoreRules(root, options.ignoreRules)
  result.ignoreRules = rules
  const scope = options.ignoreRules != null && rules !== options.ignoreRules ? undefined : scopeOf(options.paths)
  result.scoped = scope != null

  // A scoped scan compares only its paths, the directories down to them and what is below them.
  const known = index.localStats(folderId, scope == null ? undefined : { paths: withAncestors(scope), below: scope })
  const skip = (path: string, isDir: boolean): boolean => rules.ignores(path, isDir) || (options.ignore?.(path, isDir) ?? false)
  // Changes are held while a brake could still discard them: until enough of the known paths
  // were seen again that even losing all the others would not be a mass deletion. From then
  // on (at once on a first scan) they are recorded in batches, which bounds the memory.
  const changes: LocalChange[] = []
  const seen = new Set<string>()
  const knownFiles = scope == null ? known.size : index.localCount(folderId)
  const deletedBefore = options.deletedBefore ?? 0
  const counted = knownFiles + deletedBefore
  const brakeAt = counted * (options.brakeFraction ?? 0.5)
  let seenKnown = 0
  let recorded = 0
  let added = 0
  const brakePossible = (gone: number): boolean => !options.confirmDeletions && gone > 0 && counted >= BRAKE_MIN_FILES && gone + deletedBefore > brakeAt
  const record = (batch: LocalChange[]): void => {
    index.updateLocal(folderId, batch)
    recorded += batch.length
  }
  // Directories that could not be listed: what the index holds below them is unknown, not gone.
  const unreadable = new Set<string>()
  const walk: WalkOptions = { skip, onProblem: (p) => result.problems.push(p), onUnreadable: (path) => unreadable.add(path) }
  const clashes = new CaseClashes()
  const examine = async (entries: WalkEntry[]): Promise<void> => {
    signal?.throwIfAborted()
    for (const entry of entries) {
      if (!seen.has(entry.path) && known.has(entry.path)) seenKnown++
      seen.add(entry.path)
      result.files++
      const clash = clashes.add(entry.path)
      const portability = clash !== undefined ? `differs from "${clash}" only in letter case` : portabilityProblem(entry.path)
      if (portability !== undefined) result.problems.push({ path: entry.path, message: `${portability}: it syncs, but Windows (and for case, macOS) devices cannot hold it; rename it` })
      const before = known.get(entry.path)
      if (before != null && unchanged(before, entry)) continue
      const change = await describe(entry, result, signal)
      if (change == null) continue
      changes.push(change)
      if (before == null) added++
    }
    // At most every known path not seen yet could turn out gone.
    if (changes.length >= BATCH && !brakePossible(knownFiles - seenKnown)) record(changes.splice(0))
    options.onProgress?.({ files: result.files, hashedBytes: result.hashedBytes, changed: recorded + changes.length })
  }

  if (scope == null) {
    for await (const entries of walkFolder(root, walk)) await examine(entries)
  } else {
    const listings: Listings = new Map()
    for (const path of scope) {
      const found = entriesTo(root, path, listings, walk, seen)
      if (found == null) { unreadable.add(path); continue }
      await examine(found.entries)
      if (found.dir != null) {
        for await (const entries of walkFolder(root, { ...walk, from: { path, diskPath: found.dir } })) await examine(entries)
      }
    }
  }

  const gone = [...known.keys()].filter(path => !seen.has(path) && (scope == null || within(scope, path)) &&
    !within(unreadable, path) && !skip(path, known.get(path)!.type === 'dir'))
  if (brakePossible(gone.length)) {
    return { ...result, changed: 0, brake: 'mass-deletion' }
  }
  for (const path of gone) {
    const before = known.get(path)!
    changes.push({ path, type: before.type, size: 0, mtimeMs: Date.now(), mode: before.mode, deleted: true, chunks: [] })
    result.deleted++
  }
  for (let i = 0; i < changes.length; i += BATCH) record(changes.slice(i, i + BATCH))
  result.changed = recorded
  result.total = knownFiles + added - result.deleted
  return result
}

/**
 * The paths of a scoped scan, none below another (a directory's walk covers what is below
 * it), or undefined for the whole folder. Names the index would refuse are left out.
 */
function scopeOf (paths: readonly string[] | undefined): Set<string> | undefined {
  if (paths == null) return undefined
  const wanted = new Set<string>()
  for (const raw of paths) {
    const path = raw.normalize('NFC').replace(/^\/+|\/+$/g, '')
    if (path === '') return undefined
    if (pathProblem(path) == null) wanted.add(path)
  }
  return new Set([...wanted].filter(path => !within(wanted, path, true)))
}

/** The paths and every directory above them. */
function withAncestors (paths: ReadonlySet<string>): Set<string> {
  const all = new Set<string>()
  for (const path of paths) {
    all.add(path)
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) all.add(path.slice(0, i))
  }
  return all
}

/** Whether `path` is one of `dirs` or below one of them ('' is the whole folder); `strictly`: below only. */
function within (dirs: ReadonlySet<string>, path: string, strictly = false): boolean {
  if (dirs.size === 0) return false
  if (dirs.has('') || (!strictly && dirs.has(path))) return true
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (dirs.has(path.slice(0, i))) return true
  }
  return false
}

/**
 * The entries from the folder root down to `path` that are there and not skipped, parents
 * first (a new parent is recorded with what is in it), and where `path` is on disk if it is
 * a directory to walk. Undefined when a directory on the way cannot be listed.
 */
function entriesTo (root: string, path: string, listings: Listings, walk: WalkOptions, seen: ReadonlySet<string>): { entries: WalkEntry[], dir?: string } | undefined {
  let disk
  try {
    disk = findOnDisk(root, path, listings) ?? []
  } catch (err) {
    walk.onProblem({ path, message: `cannot read directory: ${(err as Error).message}` })
    return undefined
  }
  const segments = path.split('/')
  const entries: WalkEntry[] = []
  for (const [i, diskPath] of disk.entries()) {
    const rel = segments.slice(0, i + 1).join('/')
    const entry = statEntry(rel, diskPath, walk.onProblem)
    if (entry == null || walk.skip(rel, entry.type === 'dir')) break
    // Parents shared with another path of the scope are examined once.
    if (!seen.has(rel)) entries.push(entry)
    if (i === segments.length - 1 && entry.type === 'dir') return { entries, dir: diskPath }
  }
  return { entries }
}

function unchanged (before: LocalStat, now: WalkEntry): boolean {
  if (before.type !== now.type) return false
  // A link's own mode is not synced (see normaliseChange): only its target is.
  if (now.type === 'symlink') return before.target === now.target
  if (before.mode !== now.mode) return false
  if (now.type === 'dir') return true
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
