import { lstat, open, readdir, readlink } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'
import ignore from 'ignore'
import { chunksOfFile } from '../chunking/index.ts'
import { inParallel } from '../util/in-parallel.ts'
import { READ_NONBLOCKING } from '../util/open-files.ts'
import { BackupError } from './errors.ts'
import { ChunkUploader } from './chunk-uploader.ts'
import { chunkListsOf, encodeTree, MAX_TREE_BYTES, readTree } from './tree.ts'
import type { Stats } from 'node:fs'
import type { StoredChunk } from '../store/chunk-streams.ts'
import type { BackupTarget } from './chunk-uploader.ts'
import type { BlobSource, TreeEntry } from './tree.ts'

/** Directory entries lstat()ed at once by the scan. */
const STAT_BATCH = 64
/** Files read at once. */
const FILES_IN_FLIGHT = 4

/**
 * The backup walker: scans the chosen paths (skipping excludes), then chunks every file, sends
 * the repository only what it lacks, and writes the directory objects bottom-up. The snapshot's
 * root mirrors the absolute paths (/home/ann/Documents is root → home → ann → Documents).
 *
 * A file that changes while it is read (its size, mtime or ctime differ after the read) is read
 * again once; if it changes again, its entry is marked `changed` with what the last read saw.
 * A file or directory that cannot be read is skipped and reported, never the whole backup.
 */
export interface BackupOptions {
  /** Absolute paths: directories, files or symlinks. */
  paths: readonly string[]
  /** gitignore-style patterns, matched against the path below each backed-up path. */
  excludes?: readonly string[]
  target: BackupTarget
  /**
   * The device's previous snapshot: a file whose size, mtime and mode are as it recorded them
   * is taken from it without being read again (as restic and Syncthing do).
   */
  parent?: { source: BlobSource, root: Uint8Array }
  signal?: AbortSignal
  onProgress?(progress: BackupProgress): void
  /** For tests: called after each read of a file, before it is checked for changes. */
  afterRead?(path: string, attempt: number): Promise<void> | void
}

export interface BackupProgress {
  files: number
  needFiles: number
  bytes: number
  needBytes: number
  sentBytes: number
}

export interface BackupCounters {
  files: number
  dirs: number
  symlinks: number
  /** Bytes of the files in the snapshot. */
  bytes: number
  /** Files taken from the parent snapshot without reading them. */
  unchanged: number
  /** Files that changed while read, twice (marked `changed`). */
  changed: number
  /** Items that could not be read (see problems) and special files (sockets, FIFOs, devices). */
  skipped: number
  sentChunks: number
  sentBytes: number
}

export interface BackupResult {
  root: Uint8Array
  paths: string[]
  counters: BackupCounters
  problems: Array<{ path: string, reason: string }>
}

interface ScanNode {
  name: string
  path: string
  stat: Stats
  /** Directories: their entries (absent for an ancestor of a backed-up path that is only passed through). */
  children?: ScanNode[]
}

export async function backupPaths (options: BackupOptions): Promise<BackupResult> {
  const paths = normalizePaths(options.paths)
  const problems: BackupResult['problems'] = []
  const counters: BackupCounters = { files: 0, dirs: 0, symlinks: 0, bytes: 0, unchanged: 0, changed: 0, skipped: 0, sentChunks: 0, sentBytes: 0 }
  const progress: BackupProgress = { files: 0, needFiles: 0, bytes: 0, needBytes: 0, sentBytes: 0 }
  const skip = (path: string, reason: string): void => { counters.skipped++; problems.push({ path, reason }) }
  const root = await scan(paths, options.excludes ?? [], skip, progress, options.signal)
  const uploader = new ChunkUploader(options.target)
  const report = (): void => { progress.sentBytes = uploader.sentBytes; options.onProgress?.({ ...progress }) }
  report()

  /** A directory's entries in the parent snapshot (never fails: a parent that cannot be read only costs reading the files again). */
  async function parentEntries (tree: Uint8Array | undefined): Promise<Map<string, TreeEntry>> {
    if (tree === undefined || options.parent === undefined) return new Map()
    const entries = await readTree(options.parent.source, tree).catch(() => [])
    return new Map(entries.map(e => [e.name, e]))
  }

  async function writeDir (node: ScanNode, parent: Promise<Map<string, TreeEntry>>): Promise<Uint8Array> {
    const before = await parent
    // The parent snapshot's subdirectories are asked for together, not one round trip to the
    // server per directory as the walk reaches it.
    const below = new Map<string, Promise<Map<string, TreeEntry>>>()
    for (const child of node.children ?? []) {
      const old = before.get(child.name)
      if (child.stat.isDirectory() && old?.type === 'dir') below.set(child.name, parentEntries(old.tree))
    }
    // A directory's files are read FILES_IN_FLIGHT at a time: one after the other, each small
    // file's open, reads and close (round trips through libuv's threadpool) kept the agent and
    // the server waiting. Its subdirectories follow one at a time, so that no more files than
    // that are ever read at once. Entries keep their order.
    const children = (node.children ?? []).map((child, at) => ({ child, at }))
    const results: Array<TreeEntry | undefined> = []
    await inParallel(children.filter(c => !c.child.stat.isDirectory()), FILES_IN_FLIGHT, async ({ child, at }) => {
      options.signal?.throwIfAborted()
      results[at] = await writeEntry(child, before.get(child.name), undefined)
    })
    for (const { child, at } of children.filter(c => c.child.stat.isDirectory())) {
      options.signal?.throwIfAborted()
      results[at] = await writeEntry(child, before.get(child.name), below.get(child.name))
    }
    const entries = results.filter((entry): entry is TreeEntry => entry !== undefined)
    const { id, bytes } = encodeTree(entries)
    if (bytes.byteLength > MAX_TREE_BYTES) throw new BackupError(`${node.path} holds too many entries (${entries.length}) for one directory object; exclude some of them or split the directory`)
    await uploader.add(id, bytes)
    return id
  }

  async function writeEntry (node: ScanNode, old: TreeEntry | undefined, oldDir: Promise<Map<string, TreeEntry>> | undefined): Promise<TreeEntry | undefined> {
    const { stat } = node
    const base = { name: node.name, mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs }
    if (stat.isDirectory()) {
      counters.dirs++
      return { ...base, type: 'dir', size: 0, tree: await writeDir(node, oldDir ?? parentEntries(undefined)) }
    }
    if (stat.isSymbolicLink()) {
      try {
        const target = await readlink(node.path)
        counters.symlinks++
        return { ...base, type: 'symlink', size: 0, target }
      } catch (err) {
        skip(node.path, (err as Error).message)
        return undefined
      }
    }
    try {
      const entry = await writeFile(node, old)
      counters.files++
      counters.bytes += entry.size
      return entry
    } catch (err) {
      if ((err as Error).name === 'AbortError' || err instanceof BackupError) throw err
      skip(node.path, (err as Error).message)
      return undefined
    } finally {
      progress.files++
      progress.bytes += stat.size
      report()
    }
  }

  async function writeFile (node: ScanNode, old: TreeEntry | undefined): Promise<TreeEntry> {
    const base = { name: node.name, type: 'file' as const }
    if (options.parent !== undefined && old?.type === 'file' && old.changed !== true && old.size === node.stat.size &&
      old.mtimeMs === node.stat.mtimeMs && old.mode === (node.stat.mode & 0o7777)) {
      // Its chunks are in the repository already (the server checks again at commit).
      counters.unchanged++
      return { ...old }
    }
    let before = node.stat
    let chunks: StoredChunk[] = []
    let after = before
    for (let attempt = 0; attempt < 2; attempt++) {
      chunks = []
      // A FIFO may have been swapped in since the lstat (see READ_NONBLOCKING).
      const file = await open(node.path, READ_NONBLOCKING)
      try {
        // Read straight into the chunker's buffers, sized to the file (most files are small).
        for await (const chunk of chunksOfFile(file, before.size, { keepBytes: true, ...(options.signal === undefined ? {} : { signal: options.signal }) })) {
          chunks.push({ hash: chunk.hash, size: chunk.size })
          await uploader.add(chunk.hash, chunk.bytes!)
        }
      } finally {
        await file.close()
      }
      await options.afterRead?.(node.path, attempt)
      after = await lstat(node.path)
      const size = chunks.reduce((n, c) => n + c.size, 0)
      if (!after.isFile()) throw new Error('it was replaced by something that is not a file while it was read')
      if (sameFile(before, after) && size === after.size) return await fileEntry(base, after, chunks, false)
      before = after
    }
    counters.changed++
    problems.push({ path: node.path, reason: 'it changed while it was read, twice: kept as the last read saw it, marked changed' })
    return await fileEntry(base, after, chunks, true)
  }

  async function fileEntry (base: { name: string, type: 'file' }, stat: Stats, chunks: StoredChunk[], changed: boolean): Promise<TreeEntry> {
    const held = chunkListsOf(chunks)
    const entry: TreeEntry = { ...base, mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs, size: chunks.reduce((n, c) => n + c.size, 0) }
    if ('chunks' in held) entry.chunks = held.chunks
    else {
      for (const list of held.lists) await uploader.add(list.id, list.bytes)
      entry.lists = held.lists.map(l => l.id)
    }
    if (changed) entry.changed = true
    return entry
  }

  const rootId = await writeDir(root, parentEntries(options.parent?.root))
  await uploader.finish()
  counters.sentChunks = uploader.sentChunks
  counters.sentBytes = uploader.sentBytes
  report()
  return { root: rootId, paths, counters, problems }
}

/** Absolute, resolved, without duplicates or paths inside another chosen path. */
export function normalizePaths (input: readonly string[]): string[] {
  if (input.length === 0) throw new BackupError('the backup set has no paths; add one with `aerie backup add PATH`')
  for (const p of input) if (!isAbsolute(p)) throw new BackupError(`backup paths are absolute: "${p}" is not`)
  const sorted = [...new Set(input.map(p => resolve(p)))].sort()
  return sorted.filter((p, i) => !sorted.slice(0, i).some(q => q === sep || p.startsWith(q + sep)))
}

function sameFile (a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino
}

/** The scan: every item to back up with its lstat, below a root that mirrors the absolute paths. */
async function scan (paths: string[], excludes: readonly string[], skip: (path: string, reason: string) => void, progress: BackupProgress, signal?: AbortSignal): Promise<ScanNode> {
  const rules = ignore({ ignorecase: false }).add([...excludes])
  const root: ScanNode = { name: '', path: sep, stat: await lstat(sep), children: [] }
  let found = 0
  for (const path of paths) {
    const parts = path.split(sep).filter(p => p !== '')
    let stat: Stats
    try {
      stat = await lstat(path)
    } catch (err) {
      skip(path, (err as Error).message)
      continue
    }
    // The ancestors, passed through: their own mode and mtime, and only the way down.
    let parent = root
    for (let i = 0; i < parts.length - 1; i++) {
      const ancestorPath = sep + parts.slice(0, i + 1).join(sep)
      let next = parent.children!.find(c => c.name === parts[i])
      if (next === undefined) {
        next = { name: parts[i]!, path: ancestorPath, stat: await lstat(ancestorPath), children: [] }
        parent.children!.push(next)
      }
      parent = next
    }
    const node: ScanNode = { name: parts.at(-1) ?? '', path, stat }
    if (parts.length === 0) {
      // The whole filesystem: the root itself.
      root.stat = stat
      await fill(root, path)
      found++
      continue
    }
    parent.children!.push(node)
    if (stat.isDirectory()) await fill(node, path)
    else count(node)
    found++
  }
  if (found === 0) throw new BackupError(`none of the backup paths can be read: ${paths.join(', ')}`)
  return root

  function count (node: ScanNode): boolean {
    if (node.stat.isFile()) {
      progress.needFiles++
      progress.needBytes += node.stat.size
      return true
    }
    if (node.stat.isSymbolicLink() || node.stat.isDirectory()) return true
    skip(node.path, 'not a regular file, directory or symlink (a socket, FIFO or device)')
    return false
  }

  async function fill (dir: ScanNode, top: string): Promise<void> {
    signal?.throwIfAborted()
    dir.children = []
    let names: string[]
    try {
      names = await readdir(dir.path)
    } catch (err) {
      skip(dir.path, (err as Error).message)
      return
    }
    names.sort()
    // A directory's entries are lstat()ed together, STAT_BATCH at a time: one after the other,
    // a round trip through libuv's threadpool each, they were most of an incremental backup.
    for (let at = 0; at < names.length; at += STAT_BATCH) {
      const batch = names.slice(at, at + STAT_BATCH).map(name => ({ name, path: join(dir.path, name) }))
      const stats = await Promise.all(batch.map(async ({ path }) => await lstat(path).catch((err: NodeJS.ErrnoException) => err)))
      for (const [i, { name, path }] of batch.entries()) {
        const stat = stats[i]!
        if (stat instanceof Error) {
          // Gone between readdir and lstat: it is simply not in this snapshot.
          if (stat.code !== 'ENOENT') skip(path, stat.message)
          continue
        }
        const rel = path.slice(top === sep ? 1 : top.length + 1).split(sep).join('/')
        if (excludes.length > 0 && rules.ignores(stat.isDirectory() ? `${rel}/` : rel)) continue
        const child: ScanNode = { name, path, stat }
        if (!count(child)) continue
        dir.children.push(child)
        if (stat.isDirectory()) await fill(child, top)
      }
    }
  }
}
