import { lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { pathProblem } from '../index/index.ts'
import type { Dirent } from 'node:fs'
import type { FileType } from '../index/index.ts'

/** One thing the walk found: its folder-relative path and what lstat said. */
export interface WalkEntry {
  /** Relative, '/'-separated, NFC: the name the index and peers use. */
  path: string
  /** Where it is on this disk (the name as the file system spells it). */
  diskPath: string
  type: FileType
  size: number
  mtimeMs: number
  mode: number
  inode: number
  target?: string
}

export interface WalkProblem { path: string, message: string }

export interface WalkOptions {
  /** Paths neither recorded nor descended into. */
  skip (path: string, isDir: boolean): boolean
  onProblem (problem: WalkProblem): void
  /** A directory that could not be listed (reported as a problem too): what is below it is unknown, not gone. */
  onUnreadable? (path: string): void
  /** Walk only what is below this directory (default: the whole folder). */
  from?: { path: string, diskPath: string }
  batch?: number
}

/**
 * Walks a folder without following symlinks, in batches of synchronous lstat calls:
 * for a rescan where nothing changed, lstat is the whole cost, and sync calls are several
 * times cheaper than the thread pool's. It yields to the event loop between batches so the
 * agent stays responsive. Names that the index would refuse are reported, not walked.
 */
export async function * walkFolder (root: string, options: WalkOptions): AsyncGenerator<WalkEntry[]> {
  const { skip, onProblem, batch = 2_000 } = options
  const pending: Array<{ rel: string, disk: string }> = [{ rel: options.from?.path ?? '', disk: options.from?.diskPath ?? root }]
  let out: WalkEntry[] = []
  while (pending.length > 0) {
    const dir = pending.pop()!
    let dirents: Dirent[]
    try {
      // The entry types come with the names: an ignored directory needs no lstat.
      dirents = readdirSync(dir.disk, { withFileTypes: true })
    } catch (err) {
      onProblem({ path: dir.rel || '.', message: `cannot read directory: ${(err as Error).message}` })
      options.onUnreadable?.(dir.rel)
      continue
    }
    for (const dirent of dirents) {
      const rel = (dir.rel === '' ? dirent.name : `${dir.rel}/${dirent.name}`).normalize('NFC')
      if (skip(rel, dirent.isDirectory())) continue
      const problem = pathProblem(rel)
      if (problem != null) { onProblem({ path: rel, message: problem }); continue }
      const entry = statEntry(rel, join(dir.disk, dirent.name), onProblem)
      if (entry == null) continue
      if (entry.type === 'dir') pending.push({ rel, disk: entry.diskPath })
      out.push(entry)
      if (out.length >= batch) {
        yield out
        out = []
        await new Promise(resolve => setImmediate(resolve))
      }
    }
  }
  if (out.length > 0) yield out
}

/** What is at `diskPath` as the index sees it; undefined when it is gone or not something Aerie syncs (reported). */
export function statEntry (path: string, diskPath: string, onProblem: (problem: WalkProblem) => void): WalkEntry | undefined {
  let st
  try {
    st = lstatSync(diskPath, { bigint: false })
  } catch (err) {
    // Gone between readdir and lstat: the next scan sees the truth.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onProblem({ path, message: (err as Error).message })
    return undefined
  }
  const entry: WalkEntry = { path, diskPath, type: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), mode: st.mode & 0o777, inode: st.ino }
  if (st.isDirectory()) {
    entry.type = 'dir'
    entry.size = 0
  } else if (st.isSymbolicLink()) {
    entry.type = 'symlink'
    entry.size = 0
    try { entry.target = readlinkSync(diskPath) } catch { return undefined }
  } else if (!st.isFile()) {
    onProblem({ path, message: 'not a regular file, directory or symlink; skipped' })
    return undefined
  }
  return entry
}

/** Directory listings of one scan by disk path: each name, and its NFC spelling, to its entry. */
export type Listings = Map<string, Map<string, Dirent>>

/**
 * Where a folder-relative NFC path is on disk, as the directories spell its names (an
 * exact match first, then one equal in NFC), without passing through a symlink: the disk
 * path of each segment, or undefined when it is not there. Throws when a directory on the
 * way cannot be listed, since then nobody knows whether the path is there.
 */
export function findOnDisk (root: string, path: string, listings: Listings): string[] | undefined {
  const segments = path.split('/')
  const found: string[] = []
  let disk = root
  for (const [i, segment] of segments.entries()) {
    const dirent = listing(disk, listings)?.get(segment)
    if (dirent == null) return undefined
    disk = join(disk, dirent.name)
    found.push(disk)
    if (i < segments.length - 1 && !dirent.isDirectory()) return undefined
  }
  return found
}

function listing (disk: string, listings: Listings): Map<string, Dirent> | undefined {
  let names = listings.get(disk)
  if (names != null) return names
  let dirents
  try {
    dirents = readdirSync(disk, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw err
  }
  names = new Map(dirents.map(d => [d.name, d]))
  for (const d of dirents) {
    const nfc = d.name.normalize('NFC')
    if (!names.has(nfc)) names.set(nfc, d)
  }
  listings.set(disk, names)
  return names
}
