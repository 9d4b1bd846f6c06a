import { randomBytes } from 'node:crypto'
import { chmod, lstat, lutimes, mkdir, open, rename, rm, symlink, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { isChunk } from '../chunking/chunk-id.ts'
import { inParallel } from '../util/in-parallel.ts'
import { RestoreConflictError, SnapshotNotFoundError } from './errors.ts'
import { fileChunks, readTree } from './tree.ts'
import type { BlobSource, TreeEntry } from './tree.ts'

/**
 * The restore writer: a file, a directory or a whole snapshot, written under `to` with its
 * modes and mtimes. Every file is assembled in a temporary file beside its place, each chunk
 * verified against its id, fsynced and renamed into place, so a file is either restored whole
 * or not at all. Existing files are never replaced unless `overwrite` is given (then the check
 * happens before anything is written). A damaged or missing chunk fails the files that need it,
 * each named in `failed`, and only those.
 */
export interface RestoreOptions {
  source: BlobSource
  root: Uint8Array
  /** A path in the snapshot ('/home/ann/Documents'); the whole snapshot when absent or '/'. */
  path?: string
  /** The item is written as to/<its name>; the whole snapshot's top entries go straight into `to`. */
  to: string
  overwrite?: boolean
  signal?: AbortSignal
  onProgress?(progress: RestoreProgress): void
}

export interface RestoreProgress { files: number, needFiles: number, bytes: number, needBytes: number }

export interface RestoreResult {
  files: number
  dirs: number
  symlinks: number
  bytes: number
  failed: Array<{ path: string, reason: string }>
}

/** A directory's root entry (the snapshot root has none of its own). */
const ROOT: TreeEntry = { name: '', type: 'dir', mode: 0o755, mtimeMs: 0, size: 0 }

/** The entry at `path` in the snapshot (the root for '' or '/'), with its directory's object. */
export async function findEntry (source: BlobSource, root: Uint8Array, path = ''): Promise<TreeEntry> {
  const parts = splitPath(path)
  let entry: TreeEntry = { ...ROOT, tree: root }
  for (const [i, name] of parts.entries()) {
    if (entry.type !== 'dir') throw new SnapshotNotFoundError(`/${parts.slice(0, i).join('/')} is a ${entry.type} in this snapshot, not a directory`)
    const found = (await readTree(source, entry.tree!)).find(e => e.name === name)
    if (found === undefined) throw new SnapshotNotFoundError(`the snapshot has no /${parts.slice(0, i + 1).join('/')}`)
    entry = found
  }
  return entry
}

/** A directory's entries (or a file's own entry), for browsing. */
export async function listEntries (source: BlobSource, root: Uint8Array, path = ''): Promise<TreeEntry[]> {
  const entry = await findEntry(source, root, path)
  return entry.type === 'dir' ? await readTree(source, entry.tree!) : [entry]
}

interface Planned { entry: TreeEntry, disk: string }

export async function restoreSnapshot (options: RestoreOptions): Promise<RestoreResult> {
  const { source, to, signal } = options
  const top = await findEntry(source, options.root, options.path)
  const isRoot = splitPath(options.path ?? '').length === 0
  const files: Planned[] = []
  const dirs: Planned[] = []
  const links: Planned[] = []
  const progress: RestoreProgress = { files: 0, needFiles: 0, bytes: 0, needBytes: 0 }

  async function plan (entry: TreeEntry, disk: string): Promise<void> {
    signal?.throwIfAborted()
    if (entry.type === 'dir') {
      dirs.push({ entry, disk })
      for (const child of await readTree(source, entry.tree!)) await plan(child, join(disk, child.name))
    } else if (entry.type === 'symlink') {
      links.push({ entry, disk })
    } else {
      files.push({ entry, disk })
      progress.needFiles++
      progress.needBytes += entry.size
    }
  }
  if (isRoot) {
    for (const child of await readTree(source, top.tree!)) await plan(child, join(to, child.name))
  } else {
    await plan(top, join(to, top.name))
  }

  // Refuse before writing anything: a half-restored tree over the user's files helps nobody.
  const conflicts: string[] = []
  for (const { entry, disk } of [...files, ...links, ...dirs]) {
    const existing = await lstat(disk).catch(() => undefined)
    if (existing === undefined) continue
    if (entry.type === 'dir' && existing.isDirectory()) continue
    if (options.overwrite !== true || (entry.type !== 'dir') !== !existing.isDirectory()) conflicts.push(disk)
  }
  if (conflicts.length > 0) throw new RestoreConflictError(conflicts, to)

  await mkdir(to, { recursive: true })
  for (const { disk } of dirs) await mkdir(disk, { recursive: true })
  const result: RestoreResult = { files: 0, dirs: dirs.length, symlinks: 0, bytes: 0, failed: [] }
  options.onProgress?.({ ...progress })
  // A few files at a time: small files are bound by round trips, large ones by the disk.
  await inParallel(files, 4, async ({ entry, disk }) => {
    try {
      await writeFile(source, entry, disk, signal)
      result.files++
      result.bytes += entry.size
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      result.failed.push({ path: disk, reason: (err as Error).message })
    }
    progress.files++
    progress.bytes += entry.size
    options.onProgress?.({ ...progress })
  })
  for (const { entry, disk } of links) {
    try {
      await rm(disk, { force: true })
      await symlink(entry.target!, disk)
      await lutimes(disk, entry.mtimeMs / 1000, entry.mtimeMs / 1000).catch(() => {})
      result.symlinks++
    } catch (err) {
      result.failed.push({ path: disk, reason: (err as Error).message })
    }
  }
  // Deepest first: writing into a directory changes its mtime.
  for (const { entry, disk } of dirs.reverse()) {
    await chmod(disk, entry.mode)
    await utimes(disk, entry.mtimeMs / 1000, entry.mtimeMs / 1000)
  }
  result.failed.sort((a, b) => a.path < b.path ? -1 : 1)
  return result
}

/** Chunks fetched ahead of the one being written. */
const READ_AHEAD = 8

async function writeFile (source: BlobSource, entry: TreeEntry, disk: string, signal?: AbortSignal): Promise<void> {
  const chunks = await fileChunks(source, entry)
  const temp = join(dirname(disk), `.${entry.name.slice(0, 200)}.${randomBytes(6).toString('hex')}.aerie-restore`)
  const file = await open(temp, 'wx', 0o600)
  let closed = false
  try {
    const reads: Array<Promise<Uint8Array | undefined>> = []
    let written = 0
    for (let i = 0; i < chunks.length; i++) {
      signal?.throwIfAborted()
      while (reads.length < Math.min(i + READ_AHEAD, chunks.length)) {
        const reading = source.get(chunks[reads.length]!.hash)
        reading.catch(() => {}) // a failure is thrown when its turn comes
        reads.push(reading)
      }
      const chunk = chunks[i]!
      const bytes = await reads[i]!
      reads[i] = Promise.resolve(undefined)
      const id = Buffer.from(chunk.hash).toString('hex').slice(0, 16)
      if (bytes === undefined) throw new Error(`chunk ${id}… (bytes ${written}–${written + chunk.size}) is missing from the repository`)
      if (bytes.byteLength !== chunk.size || !isChunk(bytes, chunk.hash)) throw new Error(`chunk ${id}… (bytes ${written}–${written + chunk.size}) is damaged: it does not match its SHA-256`)
      await file.write(bytes)
      written += bytes.byteLength
    }
    await file.chmod(entry.mode)
    await file.sync()
    await file.close()
    closed = true
    await utimes(temp, entry.mtimeMs / 1000, entry.mtimeMs / 1000)
    // Over an existing file (with overwrite) the rename replaces it in one step.
    await rename(temp, disk)
  } catch (err) {
    if (!closed) await file.close().catch(() => {})
    await rm(temp, { force: true })
    throw err
  }
}

function splitPath (path: string): string[] {
  return path.split('/').filter(p => p !== '' && p !== '.')
}
