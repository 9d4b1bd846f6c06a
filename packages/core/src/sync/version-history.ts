import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, lstat, lutimes, mkdir, open, readdir, readlink, rename, rm, rmdir, symlink, unlink } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { InvalidInputError } from '../errors.ts'
import { TEMP_PREFIX, VERSIONS_DIR } from '../scan/folder-marker.ts'
import { pathProblem } from '../index/index.ts'
import { syncDirectory } from '../util/durable-io.ts'
import type { Stats } from 'node:fs'

/**
 * A folder's version history ("simple versioning", as in Syncthing): before the sync
 * replaces or deletes a file, the old file is kept here, so nothing a user wrote is lost
 * (docs/goals.md, goal 1). It lives in the folder root, on the same file system, so
 * archiving a deleted file is one rename, and keeping one about to be replaced is one hard
 * link (the new content is then renamed over it, so the path is never absent); the scanner
 * skips it, so it never syncs.
 *
 * `report.docx` archived at 10:15:00 UTC on 2026-11-22 becomes
 * `.aerie-versions/report~20261122-101500.docx`; a second archive in the same second
 * gets `-1`, then `-2`. Names that do not parse are left alone.
 *
 * @example
 * ```ts
 * const history = openVersionHistory('/home/ada/Documents', { keepVersions: 5 })
 * await history.keep('notes/report.docx')      // before renaming the peer's version over it
 * await history.archive('notes/old.docx')       // before a deletion: moved away
 * await history.restore('notes/report.docx', new Date('2026-11-22T10:00:00Z'))
 * await history.prune()
 * ```
 */

export interface FileVersion {
  /** The folder path it was archived from: relative, '/'-separated. */
  path: string
  /** When it was archived (whole seconds, from its name). */
  archivedAt: Date
  /** Its own modification time, kept from when it was live. */
  mtime: Date
  size: number
  /** Where it is on this disk. */
  diskPath: string
}

export interface RetentionPolicy {
  /** Versions kept per file, newest first. */
  keepVersions: number
  /** Versions archived longer ago than this are removed; 0 keeps them forever. */
  maxAgeDays: number
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepVersions: 10, maxAgeDays: 30 }

export interface VersionHistory {
  /**
   * Moves the file or symlink at `path` into the history. Undefined when there is nothing
   * to archive: no such entry, or a directory (the caller removes only empty ones). If it
   * throws, the file is still in place and must not be replaced.
   */
  archive(path: string, now?: Date): Promise<FileVersion | undefined>
  /**
   * Puts the file or symlink at `path` into the history while leaving it in place (a hard
   * link; a copy where the file system has none), for a caller that then renames new content
   * over it: readers never find the path missing, and a crash in between loses nothing.
   * Undefined when there is nothing to keep. If it throws, the path must not be replaced.
   */
  keep(path: string, now?: Date): Promise<FileVersion | undefined>
  /** The versions of `path`, newest first. */
  list(path: string): Promise<FileVersion[]>
  /** Every version in the history, by path, each path's newest first. */
  listAll(): Promise<FileVersion[]>
  /**
   * The version whose content was current at `at`: the one with the latest mtime that is
   * not after `at` (on equal mtimes, the latest archived). mtime is the time a person sees
   * in a file manager, so "the file as it was on Tuesday" means what they expect.
   */
  find(path: string, at: Date): Promise<FileVersion | undefined>
  /**
   * Puts the content of `find(path, at)` back at `path` as a new change (mtime `now`),
   * archiving what is there first, so a restore can itself be undone. The history keeps
   * the restored version.
   */
  restore(path: string, at: Date, now?: Date): Promise<FileVersion>
  /** Removes versions beyond `keepVersions` per file or older than `maxAgeDays`. */
  prune(now?: Date): Promise<{ removed: number }>
}

const DAY_MS = 24 * 60 * 60 * 1000
/** More archives of one file in one second than this means something is looping. */
const MAX_SAME_SECOND = 1000
const VERSION_NAME = /^(.+)~(\d{8}-\d{6})(?:-(\d+))?(\.[^.]*)?$/

interface Archived { version: FileVersion, n: number }
/** A directory in the history: its name on disk and as a folder path (NFC). */
interface HistoryDir { disk: string, rel: string }

export function openVersionHistory (root: string, policy: Partial<RetentionPolicy> = {}): VersionHistory {
  const retention = { ...DEFAULT_RETENTION, ...policy }
  if (!Number.isSafeInteger(retention.keepVersions) || retention.keepVersions < 1) {
    throw new InvalidInputError('keepVersions must be a whole number of at least 1')
  }
  if (!Number.isFinite(retention.maxAgeDays) || retention.maxAgeDays < 0) {
    throw new InvalidInputError('maxAgeDays must be a number of days, 0 to keep versions forever')
  }
  const historyRoot = join(root, VERSIONS_DIR)

  async function archive (path: string, now = new Date()): Promise<FileVersion | undefined> {
    return await intoHistory(path, now, async (source, diskPath) => {
      // Claim the name first: rename would silently replace a version archived by
      // another process in the same second.
      await (await open(diskPath, 'wx')).close()
      try {
        await rename(source, diskPath)
      } catch (err) {
        await rm(diskPath, { force: true })
        throw err
      }
    })
  }

  async function keep (path: string, now = new Date()): Promise<FileVersion | undefined> {
    // link, like the claim above, refuses a name that is taken.
    return await intoHistory(path, now, linkOrCopy)
  }

  /** Puts `path` at a free version name by `place`, which throws EEXIST when the name is taken. */
  async function intoHistory (path: string, now: Date, place: (source: string, diskPath: string) => Promise<void>): Promise<FileVersion | undefined> {
    checkDate(now, 'now')
    await checkPath(root, path)
    const source = join(root, path)
    const before = await lstatOrUndefined(source)
    if (before == null || !(before.isFile() || before.isSymbolicLink())) return undefined
    await assertNoSymlinkParents(root, `${VERSIONS_DIR}/${path}`)
    const dir = join(historyRoot, parentOf(path))
    await mkdir(dir, { recursive: true })
    for (let n = 0; n < MAX_SAME_SECOND; n++) {
      const diskPath = join(dir, versionName(baseOf(path), now, n))
      try {
        await place(source, diskPath)
      } catch (err) {
        if (errorCode(err) === 'EEXIST') continue
        if (errorCode(err) === 'ENOENT') return undefined
        throw err
      }
      await syncDirectory(dir)
      const after = await lstat(diskPath)
      return { path, archivedAt: wholeSecond(now), mtime: after.mtime, size: after.size, diskPath }
    }
    throw new Error(`"${path}" was archived ${MAX_SAME_SECOND} times in one second; something is rewriting it in a loop`)
  }

  async function list (path: string): Promise<FileVersion[]> {
    await checkPath(root, path)
    await assertNoSymlinkParents(root, `${VERSIONS_DIR}/${path}`)
    const dir = parentOf(path)
    const found = (await versionsIn(historyRoot, { disk: dir, rel: dir })).filter(a => a.version.path === path)
    return found.sort(newestFirst).map(a => a.version)
  }

  async function listAll (): Promise<FileVersion[]> {
    if ((await lstatOrUndefined(historyRoot))?.isDirectory() !== true) return []
    const found: Archived[] = []
    const pending: HistoryDir[] = [{ disk: '', rel: '' }]
    while (pending.length > 0) {
      found.push(...await versionsIn(historyRoot, pending.pop()!, sub => pending.push(sub)))
    }
    return found.sort((a, b) => byPath(a.version.path, b.version.path) || newestFirst(a, b)).map(a => a.version)
  }

  async function find (path: string, at: Date): Promise<FileVersion | undefined> {
    checkDate(at, 'the time to find')
    let best: FileVersion | undefined
    // Newest archived first, so on equal mtimes the first seen wins.
    for (const version of await list(path)) {
      if (version.mtime.getTime() > at.getTime()) continue
      if (best == null || version.mtime.getTime() > best.mtime.getTime()) best = version
    }
    return best
  }

  async function restore (path: string, at: Date, now = new Date()): Promise<FileVersion> {
    checkDate(now, 'now')
    const version = await find(path, at)
    if (version == null) throw noVersionError(path, at, await list(path))
    const target = join(root, path)
    const current = await lstatOrUndefined(target)
    if (current?.isDirectory() === true) {
      throw new InvalidInputError(`"${path}" is a directory now; move it away, then restore the file`)
    }
    const dir = dirname(target)
    await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTDIR' && err.code !== 'EEXIST') throw err
      throw new InvalidInputError(`cannot restore "${path}": a file now stands where one of its parent directories was; move it away, then restore`)
    })
    const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`)
    try {
      // A new file with the version's content and mode, dated `now` so that it syncs.
      await copyEntry(version.diskPath, temp, now)
      if (current != null) await keep(path, now)
      await rename(temp, target)
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
    await syncDirectory(dir)
    return version
  }

  async function prune (now = new Date()): Promise<{ removed: number }> {
    checkDate(now, 'now')
    const oldest = retention.maxAgeDays > 0 ? now.getTime() - retention.maxAgeDays * DAY_MS : -Infinity
    const touched = new Set<string>()
    let removed = 0
    let kept = 0
    let previous: string | undefined
    for (const version of await listAll()) {
      kept = version.path === previous ? kept + 1 : 1
      previous = version.path
      if (kept <= retention.keepVersions && version.archivedAt.getTime() >= oldest) continue
      await unlink(version.diskPath).catch(ignoreMissing)
      touched.add(dirname(version.diskPath))
      removed++
    }
    // Deepest first, so a parent is tried after its children are gone.
    for (const dir of [...touched].sort((a, b) => b.length - a.length)) {
      await removeEmptyDirectories(dir, historyRoot)
    }
    return { removed }
  }

  return { archive, keep, list, listAll, find, restore, prune }
}

/**
 * Refuses a folder path whose parent directories on disk include a symlink: following it
 * would read or write outside the folder. Missing directories are fine (nothing to follow);
 * the folder root itself may be a symlink.
 */
export async function assertNoSymlinkParents (root: string, path: string): Promise<void> {
  const problem = pathProblem(path)
  if (problem != null) throw new InvalidInputError(`"${path}" is not a folder path: ${problem}`)
  const segments = path.split('/').slice(0, -1)
  for (let i = 1; i <= segments.length; i++) {
    const parent = segments.slice(0, i).join('/')
    const st = await lstatOrUndefined(join(root, parent))
    if (st == null || !st.isDirectory()) {
      if (st?.isSymbolicLink() === true) {
        throw new InvalidInputError(`"${parent}" is a symlink, so "${path}" could be outside the folder; Aerie does not follow symlinked directories`)
      }
      return
    }
  }
}

/** A folder path the history may act on: valid, not inside the history, no symlinked parent. */
async function checkPath (root: string, path: string): Promise<void> {
  await assertNoSymlinkParents(root, path)
  // Case-insensitive: on macOS and Windows '.Aerie-Versions' is the same directory.
  const first = path.split('/')[0]!.toLowerCase()
  if (first === VERSIONS_DIR) throw new InvalidInputError(`"${path}" is inside the version history (${VERSIONS_DIR}), which is never versioned itself`)
}

function checkDate (date: Date, what: string): void {
  // Four-digit years only: the names hold YYYYMMDD.
  if (!(date instanceof Date) || !(date.getUTCFullYear() >= 1970 && date.getUTCFullYear() <= 9999)) {
    throw new InvalidInputError(`${what} is not a valid date between 1970 and 9999`)
  }
}

/** `name~YYYYMMDD-HHMMSS[-n].ext` in UTC; the extension stays last so the file still opens. */
function versionName (name: string, at: Date, n: number): string {
  const ext = extname(name)
  return `${name.slice(0, name.length - ext.length)}~${timeTag(at)}${n > 0 ? `-${n}` : ''}${ext}`
}

function wholeSecond (at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000)
}

function timeTag (at: Date): string {
  const iso = at.toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`
}

/** The original name, archive time and counter of a history entry, or undefined if it is not one. */
function parseVersionName (diskName: string): { name: string, archivedAt: Date, n: number } | undefined {
  const match = VERSION_NAME.exec(diskName)
  if (match == null) return undefined
  const [, stem, tag, count, ext = ''] = match
  const t = tag!
  const archivedAt = new Date(Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(9, 11), +t.slice(11, 13), +t.slice(13, 15)))
  const name = `${stem!}${ext}`
  const n = count == null ? 0 : Number(count)
  if (Number.isNaN(archivedAt.getTime())) return undefined
  // Only names we would have written: this rejects impossible dates (month 13), '-0',
  // and a dot in the wrong place.
  if (versionName(name, archivedAt, n) !== diskName) return undefined
  return { name, archivedAt, n }
}

/** The versions directly in `dir`; its subdirectories go to `onDir`. */
async function versionsIn (historyRoot: string, dir: HistoryDir, onDir?: (sub: HistoryDir) => void): Promise<Archived[]> {
  let entries
  try {
    entries = await readdir(join(historyRoot, dir.disk), { withFileTypes: true })
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return []
    throw err
  }
  const found: Archived[] = []
  for (const entry of entries) {
    const disk = dir.disk === '' ? entry.name : `${dir.disk}/${entry.name}`
    // Paths as the index spells them (macOS may hand back NFD); disk names as they are.
    const name = entry.name.normalize('NFC')
    if (entry.isDirectory()) {
      onDir?.({ disk, rel: dir.rel === '' ? name : `${dir.rel}/${name}` })
      continue
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue
    const parsed = parseVersionName(name)
    if (parsed == null) continue
    const path = dir.rel === '' ? parsed.name : `${dir.rel}/${parsed.name}`
    if (pathProblem(path) != null) continue
    const diskPath = join(historyRoot, disk)
    const st = await lstatOrUndefined(diskPath)
    if (st == null) continue
    found.push({ version: { path, archivedAt: parsed.archivedAt, mtime: st.mtime, size: st.size, diskPath }, n: parsed.n })
  }
  return found
}

/**
 * A second name for a file or symlink: a hard link, or where the file system has none (FAT,
 * some network shares) a copy with the same content, mode and mtime. Throws EEXIST when
 * `to` exists, never replacing it.
 */
export async function linkOrCopy (from: string, to: string): Promise<void> {
  try {
    await link(from, to)
    return
  } catch (err) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(errorCode(err) ?? '')) throw err
  }
  await copyEntry(from, to)
}

/** A copy of a file (content and mode, fsynced) or symlink at `to`, which must not exist; dated `at`, or as the original. */
async function copyEntry (from: string, to: string, at?: Date): Promise<void> {
  const st = await lstat(from)
  const [atime, mtime] = at === undefined ? [st.atime, st.mtime] : [at, at]
  if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to)
    await lutimes(to, atime, mtime)
    return
  }
  await copyFile(from, to, constants.COPYFILE_EXCL)
  const file = await open(to, 'r+')
  try {
    await file.chmod(st.mode & 0o777)
    await file.utimes(atime, mtime)
    await file.sync()
  } finally {
    await file.close()
  }
}

function noVersionError (path: string, at: Date, versions: FileVersion[]): InvalidInputError {
  if (versions.length === 0) return new InvalidInputError(`"${path}" has no versions in ${VERSIONS_DIR}; nothing to restore`)
  const shown = versions.slice(0, 10).map(v => `modified ${v.mtime.toISOString()} (archived ${v.archivedAt.toISOString()})`)
  const more = versions.length > shown.length ? `, and ${versions.length - shown.length} older` : ''
  return new InvalidInputError(`no version of "${path}" was current at ${at.toISOString()}; its versions: ${shown.join(', ')}${more}. Give a time at or after one of these modification times`)
}

async function removeEmptyDirectories (dir: string, stopAt: string): Promise<void> {
  while (dir !== stopAt && dir.startsWith(stopAt)) {
    try {
      await rmdir(dir)
    } catch {
      return // not empty (or gone): its parents are not empty either
    }
    dir = dirname(dir)
  }
}

async function lstatOrUndefined (path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined
    throw err
  }
}

function ignoreMissing (err: unknown): void {
  if (errorCode(err) !== 'ENOENT') throw err
}

function errorCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

function newestFirst (a: Archived, b: Archived): number {
  return b.version.archivedAt.getTime() - a.version.archivedAt.getTime() || b.n - a.n
}

function byPath (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function parentOf (path: string): string {
  const slash = path.lastIndexOf('/')
  return slash < 0 ? '' : path.slice(0, slash)
}

function baseOf (path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
