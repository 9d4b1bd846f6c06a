import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import ignore from 'ignore'
import { InvalidInputError } from '../errors.ts'
import { FOLDER_MARKER, TEMP_PREFIX, VERSIONS_DIR } from './folder-marker.ts'
import type { Ignore } from 'ignore'

/**
 * What a folder never scans or syncs: Aerie's own files (the marker, temporary files, the
 * version history) and the patterns in `.aerieignore` at the folder root, in gitignore
 * syntax. `.aerieignore` itself syncs like any file unless it lists itself.
 *
 * Patterns are case-sensitive on every system (git's default on Linux), so one
 * `.aerieignore` means the same on every peer.
 */
export const IGNORE_FILE = '.aerieignore'

export interface IgnoreRules {
  /** True for a path (folder-relative, '/'-separated, NFC) that is never scanned or synced. */
  ignores (path: string, isDir: boolean): boolean
  /** Size, times and inode of `.aerieignore` when it was read ('' when there was none): a change means a reload. */
  readonly stamp: string
}

/** The rules of a folder without `.aerieignore`: Aerie's own files only. */
export const NO_IGNORE_FILE: IgnoreRules = rulesOf(undefined, '')

/** A list of patterns is far smaller; anything this large was put there by mistake. */
const MAX_IGNORE_FILE = 1024 * 1024

/**
 * Reads the folder's rules. Given the rules read before, returns them as they are when
 * `.aerieignore` has not changed since, so a scan costs one stat. An unreadable or
 * invalid file is an error, not an empty list: scanning without the rules would sync
 * what the user meant to keep to this device.
 */
export async function loadIgnoreRules (root: string, previous?: IgnoreRules): Promise<IgnoreRules> {
  const file = join(root, IGNORE_FILE)
  let info
  try {
    info = await stat(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return previous?.stamp === '' ? previous : NO_IGNORE_FILE
    throw unusable(file, `it cannot be read (${(err as Error).message})`, err)
  }
  const stamp = `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`
  if (previous?.stamp === stamp) return previous
  if (!info.isFile()) throw unusable(file, 'it is not a file')
  if (info.size > MAX_IGNORE_FILE) throw unusable(file, `it is ${info.size} bytes, more than a list of patterns needs (${MAX_IGNORE_FILE})`)
  let text
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file))
  } catch (err) {
    if (err instanceof TypeError) throw unusable(file, 'it is not UTF-8 text', err)
    throw unusable(file, `it cannot be read (${(err as Error).message})`, err)
  }
  if (text.includes('\0')) throw unusable(file, 'it is not a text file (it contains NUL bytes)')
  const matcher = ignore({ ignorecase: false })
  const lines = text.split(/\r?\n/)
  for (const [i, line] of lines.entries()) {
    try {
      matcher.add(line)
    } catch (err) {
      throw unusable(file, `line ${i + 1} is not a valid pattern (${(err as Error).message})`, err)
    }
  }
  const hasPatterns = lines.some(line => line.trim() !== '' && !line.startsWith('#'))
  return rulesOf(hasPatterns ? matcher : undefined, stamp)
}

function rulesOf (matcher: Ignore | undefined, stamp: string): IgnoreRules {
  return {
    stamp,
    ignores (path, isDir) {
      if (isInternal(path)) return true
      // The matcher refuses names it cannot express (a leading '../'); the index refuses them too.
      if (matcher === undefined || !ignore.isPathValid(path)) return false
      return matcher.ignores(isDir ? `${path}/` : path)
    }
  }
}

function isInternal (path: string): boolean {
  return path === FOLDER_MARKER || path === VERSIONS_DIR || path.startsWith(`${VERSIONS_DIR}/`) ||
    path.startsWith(TEMP_PREFIX) || path.includes(`/${TEMP_PREFIX}`)
}

function unusable (file: string, why: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(`${file} cannot be used: ${why}. Fix or remove it; until then the folder is not scanned, so nothing it should keep here is synced`, { cause })
}
