import { link, lstat, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { assertNoSymlinkParents, CONFLICT_MARK, InvalidInputError, openVersionHistory } from '@aerie/core'
import type { FileRecord } from '@aerie/core'

/**
 * Conflict copies (`NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.EXT`, see core's conflict-name.ts)
 * and what a person decides about them. Nothing is ever simply deleted: the content that
 * loses goes into the version history, where `aerie versions` and the UI find it again.
 */
export interface ConflictCopy {
  /** The copy's folder path. */
  path: string
  /** The file it is a conflict copy of. */
  original: string
  /** When the losing version was modified (from its name), ISO. */
  modified: string
  /** The first 7 characters of the device that wrote it. */
  device: string
  size: number
  mtimeMs: number
  /** The file it conflicts with as it is now (none when that was deleted since). */
  current?: { size: number, mtimeMs: number }
}

/** keep 'copy': the copy's content becomes the file; 'original': the copy goes; 'both': the copy stays under a plain name. */
export type ConflictChoice = 'copy' | 'original' | 'both'

const CONFLICT_NAME = new RegExp(`^(.+?)${CONFLICT_MARK.replaceAll('.', '\\.')}(\\d{8})-(\\d{6})-([a-z2-7]{7})(\\.[^.]*)?$`)

/** The parts of a conflict copy's name; undefined for any other name. */
export function parseConflictName (path: string): { original: string, modified: string, device: string } | undefined {
  const slash = path.lastIndexOf('/')
  const match = CONFLICT_NAME.exec(path.slice(slash + 1))
  if (match == null) return undefined
  const [, stem, day, time, device, ext] = match as unknown as [string, string, string, string, string, string | undefined]
  const modified = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}Z`
  return { original: `${path.slice(0, slash + 1)}${stem}${ext ?? ''}`, modified, device }
}

/** The folder's conflict copies, from its local records (no disk walk). */
export function conflictCopies (records: Iterable<FileRecord>): ConflictCopy[] {
  const found: ConflictCopy[] = []
  for (const record of records) {
    if (record.deleted || record.type !== 'file' || !record.path.includes(CONFLICT_MARK)) continue
    const parsed = parseConflictName(record.path)
    if (parsed !== undefined) found.push({ path: record.path, ...parsed, size: record.size, mtimeMs: record.mtimeMs })
  }
  return found.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}

/** Carries out the choice on disk; the caller rescans so that the change syncs. Returns the path the kept copy has now. */
export async function resolveConflict (root: string, path: string, keep: ConflictChoice): Promise<{ kept: string }> {
  const parsed = parseConflictName(path)
  if (parsed === undefined) throw new InvalidInputError(`"${path}" is not a conflict copy (its name has no ${CONFLICT_MARK}…)`)
  await assertNoSymlinkParents(root, path)
  const copy = await lstat(join(root, path)).catch(() => undefined)
  if (copy?.isFile() !== true) throw new InvalidInputError(`"${path}" is no longer there; it may have been resolved on another device`)
  const history = openVersionHistory(root)
  if (keep === 'original') {
    await history.archive(path)
    return { kept: parsed.original }
  }
  if (keep === 'copy') {
    await assertNoSymlinkParents(root, parsed.original)
    const current = await lstat(join(root, parsed.original)).catch(() => undefined)
    if (current?.isDirectory() === true) throw new InvalidInputError(`"${parsed.original}" is a directory now; move it away first`)
    // The content it replaces stays in the history (a restore brings it back); the path is never missing.
    await history.keep(parsed.original)
    await rename(join(root, path), join(root, parsed.original))
    return { kept: parsed.original }
  }
  if (keep === 'both') {
    for (let n = 2; n < 1000; n++) {
      const kept = numbered(parsed.original, n)
      // link, unlike rename, refuses to replace a file that appeared in the meantime.
      const linked = await link(join(root, path), join(root, kept)).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return false
        throw err
      })
      if (!linked) continue
      await unlink(join(root, path))
      return { kept }
    }
    throw new InvalidInputError(`"${parsed.original}" has 1000 numbered copies already; rename some, then try again`)
  }
  throw new InvalidInputError(`keep is "copy", "original" or "both", not "${String(keep)}"`)
}

/** `report (2).txt` for n = 2. */
function numbered (path: string, n: number): string {
  const slash = path.lastIndexOf('/')
  const name = path.slice(slash + 1)
  const dot = name.lastIndexOf('.')
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
  return `${path.slice(0, slash + 1)}${stem} (${n})${ext}`
}
