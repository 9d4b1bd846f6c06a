import { randomBytes } from 'node:crypto'
import { chmod, lstat, lutimes, mkdir, open, rm, stat, symlink, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { StoreDamagedError } from '../errors.ts'
import { readChunks } from '../store/chunk-streams.ts'
import { syncDirectory, writeAll } from '../util/durable-io.ts'
import { ByteBudget } from '../util/byte-budget.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import { BatchedRenames } from '../util/batched-renames.ts'
import { DiskRoom } from '../util/disk-room.ts'
import { inParallel } from '../util/in-parallel.ts'
import { RestoreConflictError, SnapshotNotFoundError } from './errors.ts'
import { fileChunks, getVerified, readTree } from './tree.ts'
import type { ChunkStore } from '../store/chunk-store.ts'
import type { BlobSource, TreeEntry } from './tree.ts'

/**
 * The restore writer: a file, a directory or a whole snapshot, written under `to` with its
 * modes and mtimes. Every file is assembled in a temporary file beside its place, each chunk
 * verified against its id, fsynced and renamed into place, so a file is either restored whole
 * or not at all; the directories are synced last, so a restore that has ended survives a power
 * cut. Existing files are never replaced unless `overwrite` is given (then the check happens
 * before anything is written). A damaged or missing chunk fails the files that need it, each
 * named in `failed`, and only those.
 */
export interface RestoreOptions {
  source: BlobSource
  root: Uint8Array
  /** A path in the snapshot ('/home/ann/Documents'); the whole snapshot when absent or '/'. */
  path?: string
  /** The item is written as to/<its name>; the whole snapshot's top entries go straight into `to`. */
  to: string
  overwrite?: boolean
  /** The share of the disk at `to` kept free (KEEP_FREE_SHARE unless given). */
  keepFree?: number
  /** The room on the disk at `to` (a DiskRoom there keeping `keepFree`, unless given). */
  room?: Pick<DiskRoom, 'take'>
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

  const classify = (planned: Planned): void => {
    const { entry } = planned
    if (entry.type === 'dir') {
      dirs.push(planned)
    } else if (entry.type === 'symlink') {
      links.push(planned)
    } else {
      files.push(planned)
      progress.needFiles++
      progress.needBytes += entry.size
    }
  }
  // Level by level, TREES_AT_ONCE directory objects asked for at once, so a directory comes
  // before everything below it (`dirs` reversed is deepest first). The first failure stops it.
  let level: Planned[] = []
  if (isRoot) {
    level = [{ entry: top, disk: to }]
  } else {
    classify({ entry: top, disk: join(to, top.name) })
    level = dirs.slice()
  }
  // Bounded: each level holds the directories one level further down, and a tree of
  // content-addressed objects has no cycles.
  while (level.length > 0) {
    const below: Planned[] = []
    await inParallel(level, TREES_AT_ONCE, async ({ entry, disk }) => {
      signal?.throwIfAborted()
      for (const child of await readTree(source, entry.tree!)) {
        const planned = { entry: child, disk: join(disk, child.name) }
        classify(planned)
        if (child.type === 'dir') below.push(planned)
      }
    })
    level = below
  }

  // Refuse before writing anything: a half-restored tree over the user's files helps nobody.
  const conflicts: string[] = []
  let replaced = 0
  await inParallel([...files, ...links, ...dirs], FILES_AT_ONCE, async ({ entry, disk }) => {
    const existing = await lstat(disk).catch(() => undefined)
    if (existing === undefined) return
    if (entry.type === 'file' && existing.isFile()) replaced += existing.size
    if (entry.type === 'dir' && existing.isDirectory()) return
    if (options.overwrite !== true || (entry.type !== 'dir') !== !existing.isDirectory()) conflicts.push(disk)
  })
  if (conflicts.length > 0) throw new RestoreConflictError(conflicts.sort(), to)
  // Refuse before writing anything too when the disk cannot hold it (what is overwritten gives its room back).
  const room = options.room ?? new DiskRoom({ path: await existingAncestor(to), ...(options.keepFree === undefined ? {} : { keepFree: options.keepFree }) })
  const release = await room.take(Math.max(0, progress.needBytes - replaced), 'restore to a disk with more room, or a part of the snapshot (`aerie restore SNAPSHOT PATH`)')

  await mkdir(to, { recursive: true })
  for (const { disk } of dirs) await mkdir(disk, { recursive: true })
  const result: RestoreResult = { files: 0, dirs: dirs.length, symlinks: 0, bytes: 0, failed: [] }
  options.onProgress?.({ ...progress })
  const syncs = new ByteBudget(SYNCS_AT_ONCE)
  const renames = new BatchedRenames({ syncs, maxFiles: FILES_AWAITING_SYNC })
  const shared: Shared = { source: verifying(source), budget: new ByteBudget(READ_AHEAD_BYTES), syncs, renames, signal }
  const inPlace: Array<Promise<void>> = []
  const failed = (disk: string, err: unknown): void => { result.failed.push({ path: disk, reason: (err as Error).message }) }
  try {
    await inParallel(files, FILES_AT_ONCE, async ({ entry, disk }) => {
      try {
        const { done } = await writeFile(shared, entry, disk)
        inPlace.push(done.then(() => { result.files++; result.bytes += entry.size }, err => { failed(disk, err) }))
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        failed(disk, err)
      }
      progress.files++
      progress.bytes += entry.size
      options.onProgress?.({ ...progress })
    })
  } finally {
    await Promise.all(inPlace)
  }
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
  // Every file was fsynced before its rename; the renames themselves are durable once their
  // directories are, so a restore that has ended survives a power cut. Before the modes are
  // set: a directory restored without read permission cannot be opened to be synced.
  await inParallel([to, ...dirs.map(d => d.disk)], SYNCS_AT_ONCE, async dir => {
    await syncDirectory(dir).catch((err: Error) => { result.failed.push({ path: dir, reason: `what was restored into it may not survive a power cut: it could not be synced (${err.message})` }) })
  })
  // Deepest first: writing into a directory changes its mtime.
  for (const { entry, disk } of dirs.reverse()) {
    await chmod(disk, entry.mode)
    await utimes(disk, entry.mtimeMs / 1000, entry.mtimeMs / 1000)
  }
  release()
  result.failed.sort((a, b) => a.path < b.path ? -1 : 1)
  return result
}

/** `path`, or the nearest directory above it that exists (where the restore's disk is). */
async function existingAncestor (path: string): Promise<string> {
  // Bounded: each turn goes one level up, and the root exists.
  for (let at = path; ; at = dirname(at)) {
    if (await stat(at).then(() => true, () => false) || dirname(at) === at) return at
  }
}

/** Directory objects asked for at once while the restore is planned. */
const TREES_AT_ONCE = 32
/**
 * Files restored at once. Small files are bound by round trips and fsyncs, so several go
 * together; READ_AHEAD_BYTES bounds what they hold.
 */
const FILES_AT_ONCE = 16
/** Chunk bytes asked for and not yet written, across all files: enough to fill the repository's window of requests. */
const READ_AHEAD_BYTES = 16 * 1024 * 1024
/** Chunks of one file asked for ahead of the one being written, while READ_AHEAD_BYTES allows. */
const READ_AHEAD_CHUNKS = 256
/** Chunks are written together, up to this many bytes per write (per file, beside READ_AHEAD_BYTES). */
const WRITE_BYTES = 1024 * 1024
/** Bytes of a file written between its early fdatasyncs. */
const EARLY_SYNC_BYTES = 8 * 1024 * 1024
/**
 * fsyncs (and early fdatasyncs) at once: as many as libuv has threads. Concurrent fsyncs share
 * the file system's journal commits: the restore's steps for 2000 small files alone took
 * 0.4–0.9x the time with 4 at once as with 2 (the other files' writes wait for a thread
 * meanwhile, but their fsyncs come next); in whole restores the difference was within the noise.
 */
const SYNCS_AT_ONCE = 4
/** Written files waiting, open, for their batch's fsyncs (BatchedRenames); past it, writers wait. */
const FILES_AWAITING_SYNC = 256

interface Shared {
  source: Pick<ChunkStore, 'get'>
  budget: ByteBudget
  /** Sync slots: a ByteBudget of SYNCS_AT_ONCE that counts syncs, not bytes. */
  syncs: ByteBudget
  renames: BatchedRenames
  signal: AbortSignal | undefined
}

/** The source's blobs, each checked against its id (missing or damaged: a StoreDamagedError naming it). */
function verifying (source: BlobSource): Pick<ChunkStore, 'get'> {
  return { get: async hash => await getVerified(source, hash) }
}

/** Writes a file's temporary copy and hands it to `renames`; `done` settles once it is in place. */
async function writeFile ({ source, budget, syncs, renames, signal }: Shared, entry: TreeEntry, disk: string): Promise<{ done: Promise<void> }> {
  const chunks = await fileChunks(source, entry)
  const temp = join(dirname(disk), `.${entry.name.slice(0, 200)}.${randomBytes(6).toString('hex')}.aerie-restore`)
  const file = await open(temp, 'wx', 0o600)
  // A large file's bytes go to the disk while the rest still arrive (an early fdatasync, when a
  // sync slot is free), not all at its final fsync: the page cache alone would hold them all.
  // An early one's failure fails the file: Linux reports a write-back error to one sync only.
  let early: Promise<void> | undefined
  let syncing = false
  let earlyFailure: unknown
  let unsynced = 0
  try {
    let written = 0
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    const flush = async (): Promise<void> => {
      await writeAll(file, pending, written)
      // Nothing reads a chunk again once it is written (each is fetched for this file alone).
      for (const bytes of pending) releaseBytes(bytes)
      written += pendingBytes
      unsynced += pendingBytes
      pending = []
      pendingBytes = 0
      if (unsynced >= EARLY_SYNC_BYTES && !syncing && syncs.tryTake(1)) {
        unsynced = 0
        syncing = true
        early = file.datasync().catch((err: unknown) => { earlyFailure ??= err }).finally(() => { syncing = false; syncs.give(1) })
      }
    }
    for await (const bytes of readChunks(source, chunks, 0, undefined, { budget, readAhead: READ_AHEAD_CHUNKS })) {
      signal?.throwIfAborted()
      pending.push(bytes)
      pendingBytes += bytes.byteLength
      if (pendingBytes >= WRITE_BYTES) await flush()
    }
    if (pendingBytes > 0) await flush()
    if (written !== entry.size) throw new StoreDamagedError(`its chunks hold ${written} bytes, not the ${entry.size} its entry says`)
    await file.chmod(entry.mode)
    await file.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000)
    await early
    if (earlyFailure !== undefined) throw earlyFailure
  } catch (err) {
    await early
    await file.close().catch(() => {})
    await rm(temp, { force: true })
    throw err
  }
  // Fsynced and renamed over `disk` (with overwrite, an existing file is replaced in one step) in a batch.
  return await renames.add(file, temp, disk)
}

function splitPath (path: string): string[] {
  return path.split('/').filter(p => p !== '' && p !== '.')
}
