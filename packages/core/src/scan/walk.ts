import { lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { pathProblem } from '../index/index.ts'
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

/**
 * Walks a folder without following symlinks, in batches of synchronous lstat calls:
 * for a rescan where nothing changed, lstat is the whole cost, and sync calls are several
 * times cheaper than the thread pool's. It yields to the event loop between batches so the
 * agent stays responsive. Names that the index would refuse are reported, not walked.
 */
export async function * walkFolder (root: string, skip: (path: string) => boolean, onProblem: (p: WalkProblem) => void, batch = 2_000): AsyncGenerator<WalkEntry[]> {
  const pending: Array<{ rel: string, disk: string }> = [{ rel: '', disk: root }]
  let out: WalkEntry[] = []
  while (pending.length > 0) {
    const dir = pending.pop()!
    let names: string[]
    try {
      names = readdirSync(dir.disk)
    } catch (err) {
      onProblem({ path: dir.rel || '.', message: `cannot read directory: ${(err as Error).message}` })
      continue
    }
    for (const name of names) {
      const rel = (dir.rel === '' ? name : `${dir.rel}/${name}`).normalize('NFC')
      if (skip(rel)) continue
      const problem = pathProblem(rel)
      if (problem != null) { onProblem({ path: rel, message: problem }); continue }
      const disk = join(dir.disk, name)
      let st
      try {
        st = lstatSync(disk, { bigint: false })
      } catch (err) {
        // Gone between readdir and lstat: the next scan sees the truth.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onProblem({ path: rel, message: (err as Error).message })
        continue
      }
      const entry: WalkEntry = { path: rel, diskPath: disk, type: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), mode: st.mode & 0o777, inode: st.ino }
      if (st.isDirectory()) {
        entry.type = 'dir'
        entry.size = 0
        pending.push({ rel, disk })
      } else if (st.isSymbolicLink()) {
        entry.type = 'symlink'
        entry.size = 0
        try { entry.target = readlinkSync(disk) } catch { continue }
      } else if (!st.isFile()) {
        onProblem({ path: rel, message: 'not a regular file, directory or symlink; skipped' })
        continue
      }
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
