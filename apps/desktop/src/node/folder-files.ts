import { CONFLICT_MARK, InvalidInputError, isValidPath } from '@aerie/core'
import type { FileType, FolderIndex } from '@aerie/core'

/**
 * One directory of a synced folder as the index sees it, each entry with its sync state,
 * for the UI's file list. Read from the index, not the disk: it shows what the sync knows.
 */
export type EntryState =
  /** This device holds the newest version any member announced. */
  | 'in-sync'
  /** A newer version (or, for a directory, something under it) is on its way. */
  | 'syncing'
  /** A member has it and this device does not yet. */
  | 'incoming'
  /** A conflict copy, waiting for someone to decide. */
  | 'conflict'

export interface FolderEntry {
  name: string
  path: string
  type: FileType
  size: number
  mtimeMs: number
  state: EntryState
  /** The device that made this version. */
  modifiedBy: string
}

export function listDirectory (index: FolderIndex, folder: string, dir: string): FolderEntry[] {
  if (dir !== '' && !isValidPath(dir)) throw new InvalidInputError(`"${dir}" is not a directory of the folder`)
  const prefix = dir === '' ? '' : `${dir}/`
  const needed = index.need(folder)
  const neededPaths = new Set(needed.map(n => n.path))
  const childOf = (path: string): boolean => path.startsWith(prefix) && !path.slice(prefix.length).includes('/')
  const entries = new Map<string, FolderEntry>()
  for (const record of index.localFiles(folder)) {
    if (record.deleted || !childOf(record.path)) continue
    entries.set(record.path, {
      name: record.path.slice(prefix.length),
      path: record.path,
      type: record.type,
      size: record.size,
      mtimeMs: record.mtimeMs,
      state: record.path.includes(CONFLICT_MARK) ? 'conflict' : neededPaths.has(record.path) ? 'syncing' : 'in-sync',
      modifiedBy: record.modifiedBy
    })
  }
  for (const { path, winner } of needed) {
    if (winner.deleted || !childOf(path) || entries.has(path)) continue
    entries.set(path, { name: path.slice(prefix.length), path, type: winner.type, size: winner.size, mtimeMs: winner.mtimeMs, state: 'incoming', modifiedBy: winner.modifiedBy })
  }
  // A directory is syncing while anything under it is.
  for (const entry of entries.values()) {
    if (entry.type === 'dir' && entry.state === 'in-sync' && needed.some(n => n.path.startsWith(`${entry.path}/`))) entry.state = 'syncing'
  }
  return [...entries.values()].sort((a, b) => (a.type === 'dir' ? 0 : 1) - (b.type === 'dir' ? 0 : 1) || a.name.localeCompare(b.name))
}
