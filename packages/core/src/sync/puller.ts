import { createHash } from 'node:crypto'
import { closeSync, constants, fchmodSync, fstatSync, fsync, futimesSync, lstatSync, openSync, renameSync, writeSync } from 'node:fs'
import { chmod, lstat, mkdir, open, readlink, rename, rmdir, symlink, unlink, utimes } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { encodeVersion, LOCAL } from '../index/index.ts'
import { TEMP_PREFIX } from '../scan/folder-marker.ts'
import { conflictName } from './conflict-name.ts'
import { DiskRoom } from '../util/disk-room.ts'
import { inParallel } from '../util/in-parallel.ts'
import { isChunk } from '../chunking/index.ts'
import { PassChunks } from './pass-chunks.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import { SyncWhileQuick } from '../util/sync-while-quick.ts'
import { assertNoSymlinkParents, linkOrCopy } from './version-history.ts'
import type { FileRecord, FolderIndex } from '../index/index.ts'
import type { LocalChunks } from './local-chunks.ts'
import type { VersionHistory } from './version-history.ts'
import type { Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/**
 * The puller: makes a folder on disk hold the global version of every path it needs.
 *
 * A file is built in a temporary file beside its final place (`.aerie-tmp-…`, which the
 * scanner skips) from chunks found locally first (any file of any folder: dedupe), then from
 * peers; every chunk's hash is verified. Then mode, mtime, fsync, and one rename into place.
 * The temporary file's name is fixed by the path and version, so after a crash or kill the
 * next pull finds it and keeps the chunks that still verify (resume).
 *
 * Nothing a user wrote is lost (docs/goals.md, goal 1): a file is only replaced when the disk
 * still holds what the index says (a change not yet scanned is left alone, and becomes a
 * conflict once scanned); a replaced or deleted file goes to the version history; a local
 * version that loses a conflict is kept as a sync-conflict copy.
 */
export interface PullerInit {
  folder: string
  root: string
  index: FolderIndex
  history: VersionHistory
  localChunks: LocalChunks
  /** Paths never written or deleted: ignore patterns. */
  ignores?(path: string, isDir: boolean): boolean
  /**
   * A chunk from the peers (verified), asking `device` (the winner's holder) first. Throws when
   * none has it. Bytes of the puller's own: it frees them once written (releaseBytes).
   */
  fetchChunk(hash: Uint8Array, size: number, device: string): Promise<Uint8Array>
  onProgress?(progress: PullProgress): void
  /** Bytes of files built at once (FILE_BYTES_IN_FLIGHT unless given; tests make it small). */
  fileBytesInFlight?: number
  /** The room the folder's disk has for new files (a DiskRoom on `root`, which keeps 1% free, unless given). */
  room?: Pick<DiskRoom, 'take'>
}

export interface PullProgress {
  folder: string
  needFiles: number
  needBytes: number
  doneFiles: number
  doneBytes: number
  /** Bytes copied from this device's own files instead of the network. */
  localBytes: number
  networkBytes: number
}

export interface PullResult extends PullProgress {
  /** Paths that could not be pulled this time, with why; they are tried again on the next pull. */
  problems: Array<{ path: string, message: string }>
  /** Paths left alone because they changed on disk since the last scan. */
  skipped: number
}

/** Files built at once: many small files are bound by round trips and fsyncs, not bytes. */
const FILES_IN_FLIGHT = 32
/**
 * ... and no more of their bytes than this. Big files are then built two at a time, each done
 * (in place, usable) before the next starts, instead of all of them at the very end: a stopped
 * sync keeps whole files, and the receiver holds 4 MiB of chunks in flight instead of 32
 * (1 GiB in 16 files: peak RSS 173 instead of 261 MiB, the same time).
 */
const FILE_BYTES_IN_FLIGHT = 128 * 1024 * 1024
/** Chunk requests in flight per file. */
const CHUNKS_IN_FLIGHT = 32
/** Neighbouring chunks written with one writev. */
const CHUNKS_PER_WRITE = 8
/** Adopted records are written to the index in batches (one transaction each). */
const ADOPT_BATCH = 256
/** ... and at the latest this soon after a file is done: before the watcher (50 ms of quiet) has the file scanned. */
const ADOPT_WITHIN_MS = 25
const PROGRESS_EVERY_MS = 250
/** Files up to this size are written by writeSmallTemp. */
const SMALL_FILE_BYTES = 256 * 1024

const fsyncInPool = promisify(fsync)

type Needed = ReturnType<FolderIndex['need']>[number]

/** What one pull's steps share. */
interface Pass {
  init: PullerInit
  result: PullResult
  sourcing: PassChunks
  room: Pick<DiskRoom, 'take'>
  /** Whether small file system calls run on the event loop (see SyncWhileQuick). */
  calls: SyncWhileQuick
  /** Folder paths this pass wrote into, so known to be real directories ('.' is the root). */
  safeDirs: Set<string>
  signal?: AbortSignal
}

/** What the folder needs, without what its ignore patterns keep out (never written, never deleted). */
export function neededItems (index: FolderIndex, folder: string, ignores?: PullerInit['ignores']): Needed[] {
  return index.need(folder).filter(item => !(ignores?.(item.path, item.winner.type === 'dir') ?? false))
}

/** Items and the bytes of their content (a deletion has none). */
export function needTotals (needed: readonly Needed[]): { needFiles: number, needBytes: number } {
  return { needFiles: needed.length, needBytes: needed.reduce((n, item) => n + (item.winner.deleted ? 0 : item.winner.size), 0) }
}

export async function pullFolder (init: PullerInit, signal?: AbortSignal): Promise<PullResult> {
  const { folder, root, index } = init
  const needed = neededItems(index, folder, init.ignores)
  const result: PullResult = {
    folder,
    ...needTotals(needed),
    doneFiles: 0,
    doneBytes: 0,
    localBytes: 0,
    networkBytes: 0,
    problems: [],
    skipped: 0
  }
  if (needed.length === 0) return result

  let adopted: Array<FileRecord & { inode?: number }> = []
  let flushTimer: NodeJS.Timeout | undefined
  const flush = (): void => {
    clearTimeout(flushTimer)
    flushTimer = undefined
    if (adopted.length === 0) return
    const batch = adopted
    adopted = []
    try {
      index.adoptRemotes(folder, batch)
    } catch {
      // One record the index refuses (the scanner recorded a newer local change meanwhile)
      // must not cost the others: each on its own, and the refused ones are retried later.
      for (const record of batch) {
        try {
          index.adoptRemote(folder, record)
        } catch (err) {
          result.problems.push({ path: record.path, message: (err as Error).message })
        }
      }
    }
  }
  let lastProgress = 0
  const progress = (force = false): void => {
    const now = Date.now()
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = now
    const { problems: _problems, skipped: _skipped, ...figures } = result
    init.onProgress?.(figures)
  }
  const done = (record: FileRecord, stats?: Stats): void => {
    adopted.push(stats === undefined ? record : { ...record, inode: stats.ino })
    result.doneFiles++
    // Soon, not only per batch: the watcher sees our rename, and a scan that finds the file
    // already adopted leaves it alone instead of hashing it again.
    if (adopted.length >= ADOPT_BATCH) flush()
    else flushTimer ??= setTimeout(flush, ADOPT_WITHIN_MS)
    progress()
  }
  // Each directory's parents are checked for symlinks once in this pass, not per file: the files
  // of a directory share the check (those that start together too). This pass creates symlinks
  // only after all files, so none can appear in between.
  const parentChecks = new Map<string, Promise<void>>()
  // Directories the pass has written into: they exist, no mkdir needed.
  const safeDirs = new Set<string>()
  const attempt = async (item: Needed, work: () => Promise<void>): Promise<void> => {
    signal?.throwIfAborted()
    const parent = dirname(item.path)
    try {
      let check = parentChecks.get(parent)
      if (check === undefined) {
        check = assertNoSymlinkParents(root, item.path)
        parentChecks.set(parent, check)
      }
      await check
      await work()
      safeDirs.add(parent)
    } catch (err) {
      if (signal?.aborted === true) throw err
      result.problems.push({ path: item.path, message: (err as Error).message })
    }
  }

  const pass: Pass = { init, result, sourcing: new PassChunks(init), room: init.room ?? new DiskRoom({ path: root }), calls: new SyncWhileQuick(), safeDirs, ...(signal === undefined ? {} : { signal }) }
  const dirs = needed.filter(item => !item.winner.deleted && item.winner.type === 'dir')
  const files = needed.filter(item => !item.winner.deleted && item.winner.type === 'file')
  const links = needed.filter(item => !item.winner.deleted && item.winner.type === 'symlink')
  // Children before their parents, so a directory is empty when its turn comes.
  const deletions = needed.filter(item => item.winner.deleted).reverse()

  try {
    for (const item of dirs) {
      await attempt(item, async () => {
        const disk = join(root, item.path)
        const stats = await lstatOrUndefined(disk)
        if (stats !== undefined && !stats.isDirectory()) {
          if (!await diskMatchesIndex(init, item.path, stats)) { result.skipped++; return }
          await setAside(init, item, disk, 'made anew')
        }
        await mkdir(disk, { recursive: true, mode: item.winner.mode })
        await chmod(disk, item.winner.mode)
        done(item.winner, await lstat(disk))
      })
    }

    const renames = findRenames(init, files, deletions)
    // A rename moves no bytes: it waits for no big file, and none waits for it.
    const weight = { of: (item: Needed) => renames.has(item.path) ? 0 : item.winner.size, max: init.fileBytesInFlight ?? FILE_BYTES_IN_FLIGHT }
    await inParallel(files, { count: FILES_IN_FLIGHT, weight }, async (item) => {
      await attempt(item, async () => {
        const from = renames.get(item.path)
        const outcome = from !== undefined
          ? await moveFile(pass, item, from)
          : await buildFile(pass, item)
        if (outcome === 'skipped') { result.skipped++; return }
        result.doneBytes += item.winner.size
        done(item.winner, outcome)
      })
    })

    for (const item of links) {
      await attempt(item, async () => {
        const disk = join(root, item.path)
        const stats = await lstatOrUndefined(disk)
        if (stats !== undefined) {
          if (stats.isSymbolicLink() && await readlink(disk) === item.winner.target) { done(item.winner, stats); return }
          if (!await diskMatchesIndex(init, item.path, stats)) { result.skipped++; return }
          await setAside(init, item, disk, 'made anew')
        }
        await mkdir(dirname(disk), { recursive: true })
        await symlink(item.winner.target as string, disk)
        done(item.winner, await lstat(disk))
      })
    }

    for (const item of deletions) {
      await attempt(item, async () => {
        const disk = join(root, item.path)
        const stats = await lstatOrUndefined(disk)
        if (stats === undefined) { done(item.winner); return }
        if (!await diskMatchesIndex(init, item.path, stats)) { result.skipped++; return }
        if (stats.isDirectory()) {
          // Files the index does not know (ignored, or not scanned yet) keep it; nothing is lost.
          await rmdir(disk)
        } else {
          await init.history.archive(item.path)
        }
        done(item.winner)
      })
    }
  } finally {
    flush()
    progress(true)
  }
  return result
}

/**
 * A needed file whose exact content is a local file that is being deleted is a rename on the
 * other device: move it instead of building a copy. Returns new path -> old path.
 */
function findRenames (init: PullerInit, files: readonly Needed[], deletions: readonly Needed[]): Map<string, string> {
  const renames = new Map<string, string>()
  if (deletions.length === 0) return renames
  const byContent = new Map<string, string>()
  for (const item of deletions) {
    const local = init.index.getLocal(init.folder, item.path)
    if (local === undefined || local.deleted || local.type !== 'file' || local.size === 0) continue
    byContent.set(contentKey(local), item.path)
  }
  for (const item of files) {
    const key = contentKey(item.winner)
    const from = byContent.get(key)
    if (from === undefined || item.winner.size === 0) continue
    byContent.delete(key)
    renames.set(item.path, from)
  }
  return renames
}

function contentKey (record: FileRecord): string {
  const hash = createHash('sha256')
  for (const chunk of record.chunks) hash.update(chunk.hash)
  return `${record.size}:${hash.digest('hex')}`
}

/** The old path's deletion is then found done (nothing there) when deletions come. */
async function moveFile (pass: Pass, item: Needed, from: string): Promise<Stats | 'skipped'> {
  const { init } = pass
  const source = join(init.root, from)
  const stats = await lstatOrUndefined(source)
  const target = join(init.root, item.path)
  if (stats === undefined || !stats.isFile() || !await diskMatchesIndex(init, from, stats)) return await buildFile(pass, item)
  const existing = await lstatOrUndefined(target)
  if (existing !== undefined) {
    if (!await diskMatchesIndex(init, item.path, existing)) return 'skipped'
    await setAside(init, item, target, 'renamed over')
  }
  await assertNoSymlinkParents(init.root, from)
  await mkdir(dirname(target), { recursive: true })
  await rename(source, target)
  await chmod(target, item.winner.mode)
  await utimes(target, new Date(), new Date(item.winner.mtimeMs))
  return await lstat(target)
}

/** Builds the winner's content in a temporary file and renames it into place. */
async function buildFile (pass: Pass, item: Needed): Promise<Stats | 'skipped'> {
  const { init } = pass
  const { winner } = item
  const target = join(init.root, item.path)
  // Where this device never had anything, nothing is expected: the check before the rename will do.
  if (item.localExists) {
    const before = await lstatQuick(pass, target)
    if (before !== undefined && !await diskMatchesIndex(init, item.path, before)) return 'skipped'
  }

  // Never the disk's last bytes: the user's other programs must still be able to save.
  const release = await pass.room.take(winner.size, 'free some space and it is pulled then')
  let built: Stats
  const temp = join(dirname(target), tempName(item.path, winner))
  try {
    if (!pass.safeDirs.has(dirname(item.path))) await mkdir(dirname(target), { recursive: true })
    built = (winner.size <= SMALL_FILE_BYTES ? await writeSmallTemp(pass, item, temp) : undefined) ?? await writeTemp(pass, item, temp)
  } finally {
    release()
  }

  // Checked again at the last moment: the user may have saved while we were building.
  const now = await lstatQuick(pass, target)
  if (now !== undefined) {
    if (!await diskMatchesIndex(init, item.path, now)) return 'skipped'
    await setAside(init, item, target, 'renamed over')
  }
  await pass.calls.call(() => { renameSync(temp, target) }, async () => { await rename(temp, target) })
  pass.sourcing.moved(temp, target)
  return built
}

/**
 * Writes the winner's content into its temporary file, resuming an earlier attempt's: missing
 * chunks in runs of neighbours, each run fetched in parallel and written with one writev (far
 * fewer system calls and thread-pool trips than a write per chunk). Returns the file's stats.
 */
async function writeTemp (pass: Pass, item: Needed, temp: string): Promise<Stats> {
  const { winner } = item
  const { file, resumed } = await openTemp(temp)
  try {
    const have = resumed ? await verifiedPrefix(file, winner) : new Set<number>()
    // A new file reaches its size with its last chunk; an old attempt may be longer.
    if (resumed) await file.truncate(winner.size)
    const runs: Placed[][] = []
    let previous = -2
    for (const [i, chunk] of placed(winner.chunks).entries()) {
      if (have.has(i)) continue
      const run = runs.at(-1)
      if (run !== undefined && previous === i - 1 && run.length < CHUNKS_PER_WRITE) run.push(chunk)
      else runs.push([chunk])
      previous = i
    }
    await inParallel(runs, CHUNKS_IN_FLIGHT / CHUNKS_PER_WRITE, async (run) => {
      pass.signal?.throwIfAborted()
      await withChunks(pass, item, temp, run, async pieces => { await writeAllV(file, pieces, run[0]!.offset) })
    })
    // On the handle and before the fsync, so that mode and time are as durable as the bytes.
    await file.chmod(winner.mode)
    await file.utimes(new Date(), new Date(winner.mtimeMs))
    await file.sync()
    // The inode the index records: the file's own, whatever happens at its path after the rename.
    return await file.stat()
  } finally {
    await file.close()
  }
}

/**
 * writeTemp for a small new file, with synchronous calls on the event loop while they are quick
 * (SyncWhileQuick) and only the fsync through the thread pool: creating 20 000 files of 4 KiB
 * took 2.2 s and 3.0 CPU-s so, against 3.1 s and 4.1 CPU-s with a pool trip per call. Undefined
 * when the calls are slow, or an earlier attempt left the temporary file (writeTemp resumes it).
 */
async function writeSmallTemp (pass: Pass, item: Needed, temp: string): Promise<Stats | undefined> {
  const { calls } = pass
  const { winner } = item
  if (!calls.quick) return undefined
  let fd: number
  try {
    fd = calls.run(() => openSync(temp, 'wx+', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw err
  }
  try {
    if (winner.chunks.length > 0) {
      await withChunks(pass, item, temp, placed(winner.chunks), async pieces => { calls.run(() => { writeAllSync(fd, pieces, 0) }) })
    }
    calls.run(() => {
      fchmodSync(fd, winner.mode)
      futimesSync(fd, new Date(), new Date(winner.mtimeMs))
    })
    await fsyncInPool(fd)
    return fstatSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** A chunk and where it goes in its file. */
interface Placed { hash: Uint8Array, size: number, offset: number }

function placed (chunks: FileRecord['chunks']): Placed[] {
  let offset = 0
  return chunks.map(chunk => {
    const at = { hash: chunk.hash, size: chunk.size, offset }
    offset += chunk.size
    return at
  })
}

/**
 * Gets a run of a file's chunks (from this pull, this device's files, then the peers), has
 * `write` put them into `temp`, then frees the memory nobody else holds and notes where they are.
 */
async function withChunks (pass: Pass, item: Needed, temp: string, run: readonly Placed[], write: (pieces: Uint8Array[]) => Promise<void>): Promise<void> {
  const { result, sourcing } = pass
  const bytes = run.reduce((n, chunk) => n + chunk.size, 0)
  await sourcing.reserve(bytes)
  try {
    const got = await Promise.allSettled(run.map(async chunk => await sourcing.get(chunk.hash, chunk.size, item.device)))
    const failed = got.find(g => g.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    const pieces = got.map(g => (g as PromiseFulfilledResult<{ bytes: Uint8Array, local: boolean, own: boolean }>).value)
    // Every chunk was checked against its hash, so a wrong length here means its memory was
    // freed under it (releaseBytes where another file still needed it): fail, never write a hole.
    const short = run.findIndex((chunk, k) => pieces[k]!.bytes.byteLength !== chunk.size)
    if (short >= 0) throw new Error(`part of it at byte ${run[short]!.offset} was lost in memory before it was written (a bug in Aerie: please report it); nothing was written at its path, and it is tried again`)
    await write(pieces.map(p => p.bytes))
    // Written: memory nobody else holds goes back now, not at V8's next full collection.
    for (const piece of pieces) if (piece.own) releaseBytes(piece.bytes)
    for (const [k, chunk] of run.entries()) {
      sourcing.wrote(chunk.hash, temp, chunk.offset)
      if (pieces[k]!.local) result.localBytes += chunk.size
      else result.networkBytes += chunk.size
    }
  } finally {
    sourcing.release(bytes)
  }
}

/**
 * The temporary file, new, or `resumed` when an interrupted attempt at this very version left
 * it. One that attempt had already made read-only (the file's mode) cannot be written to: it is
 * started anew.
 */
async function openTemp (temp: string): Promise<{ file: FileHandle, resumed: boolean }> {
  try {
    return { file: await open(temp, 'wx+', 0o600), resumed: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  try {
    return { file: await open(temp, constants.O_RDWR), resumed: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err
  }
  await unlink(temp)
  return { file: await open(temp, 'wx+', 0o600), resumed: false }
}

/** Chunks of an earlier attempt's temporary file that still verify, by position. */
async function verifiedPrefix (file: FileHandle, winner: FileRecord): Promise<Set<number>> {
  const have = new Set<number>()
  const size = (await file.stat()).size
  if (size === 0) return have
  let offset = 0
  for (const [i, chunk] of winner.chunks.entries()) {
    if (offset + chunk.size > size) break
    const bytes = new Uint8Array(chunk.size)
    const { bytesRead } = await file.read(bytes, 0, chunk.size, offset)
    if (bytesRead === chunk.size && isChunk(bytes, chunk.hash)) have.add(i)
    offset += chunk.size
  }
  return have
}

/**
 * Keeps what is at a path before the winner takes it: in the version history when the winner
 * is newer, or as a sync-conflict copy when the local version lost a conflict (it was
 * concurrent, not older). Both are second names (hard links). A file the winner is
 * `renamed over` stays at the path until then, so the path is never missing in between; where
 * the winner is `made anew` (a directory, a symlink) the old name is removed. An empty
 * directory in the way is removed.
 */
async function setAside (init: PullerInit, item: Needed, disk: string, winner: 'renamed over' | 'made anew'): Promise<void> {
  const local = init.index.getLocal(init.folder, item.path)
  const concurrent = local !== undefined && !local.deleted && isConcurrent(init, item)
  const stats = await lstat(disk)
  if (concurrent && local.type === 'file' && stats.isFile()) {
    const copy = join(init.root, conflictName(item.path, local.mtimeMs, local.modifiedBy))
    // A copy of that name from an earlier attempt is not replaced; the history keeps this one then.
    const made = await linkOrCopy(disk, copy).then(() => true, (err: NodeJS.ErrnoException) => { if (err.code === 'EEXIST') return false; throw err })
    if (!made) await init.history.keep(item.path)
  } else if (stats.isDirectory()) {
    await rmdir(disk)
  } else {
    await init.history.keep(item.path)
  }
  if (winner === 'made anew' && !stats.isDirectory()) await unlink(disk)
}

function isConcurrent (init: PullerInit, item: Needed): boolean {
  const global = init.index.globalRecord(init.folder, item.path)
  return global?.conflicts.some(c => c.device === LOCAL) ?? false
}

/** Whether the disk still holds what the index's local record says (nothing unscanned). */
async function diskMatchesIndex (init: PullerInit, path: string, stats: Stats): Promise<boolean> {
  const local = init.index.getLocal(init.folder, path)
  if (local === undefined || local.deleted) return false
  if (local.type === 'dir') return stats.isDirectory()
  if (local.type === 'symlink') return stats.isSymbolicLink() && await readlink(join(init.root, path)).catch(() => '') === local.target
  return stats.isFile() && stats.size === local.size && Math.floor(stats.mtimeMs) === local.mtimeMs
}

function tempName (path: string, winner: FileRecord): string {
  const tag = createHash('sha256').update(`${path}\n${encodeVersion(winner.version)}`).digest('hex').slice(0, 16)
  return `${TEMP_PREFIX}${basename(path).slice(0, 100)}-${tag}`
}

/** Writes buffers back to back from `offset`, however many calls the kernel needs. */
async function writeAllV (file: FileHandle, buffers: readonly Uint8Array[], offset: number): Promise<void> {
  let pending = buffers.filter(b => b.byteLength > 0)
  let at = offset
  while (pending.length > 0) {
    const { bytesWritten } = await file.writev(pending as Uint8Array[], at)
    at += bytesWritten
    let skip = bytesWritten
    const rest: Uint8Array[] = []
    for (const buffer of pending) {
      if (skip >= buffer.byteLength) { skip -= buffer.byteLength; continue }
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer)
      skip = 0
    }
    pending = rest
  }
}

/** writeAllV with synchronous calls. */
function writeAllSync (fd: number, buffers: readonly Uint8Array[], offset: number): void {
  let at = offset
  for (const buffer of buffers) {
    for (let done = 0; done < buffer.byteLength;) done += writeSync(fd, buffer, done, buffer.byteLength - done, at + done)
    at += buffer.byteLength
  }
}

/** What is at a path, or undefined: synchronously while file system calls are quick. */
async function lstatQuick (pass: Pass, path: string): Promise<Stats | undefined> {
  return await pass.calls.call(() => lstatSync(path, { throwIfNoEntry: false }), async () => await lstatOrUndefined(path))
}

async function lstatOrUndefined (path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
