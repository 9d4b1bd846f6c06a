import type { ShareLinkRecord, SnapshotFile } from '../metadata/stores.ts'
import type { FileIdentity } from '@aerie/core'
import type { FolderEntry, TeamServerApi } from '../team-server-api.ts'

/**
 * What a folder link shows and serves: the central copy as it is now, or, for a snapshot link,
 * the files it froze, each in the version it froze (current, or kept in the version history).
 * Paths here are the folder's; callers have already checked they lie inside the link
 * (file-names.ts: pathInside). The entries of a snapshot carry their version's identity, which
 * `readFile` takes (versionOf).
 */
export interface ShareListing {
  /** Files and directories directly under `dir`, directories first. */
  list (dir: string): FolderEntry[]
  /** Every file under `dir`, for the zip. */
  files (dir: string): FolderEntry[]
  /** The file at `path`, if the link serves it. */
  file (path: string): FolderEntry | undefined
  isDir (path: string): boolean
  /** Files a snapshot froze whose version the history no longer keeps (they are not served). */
  changed (): number
  /** The version of an entry to read: its identity for a snapshot, the current one otherwise. */
  versionOf (entry: FolderEntry): FileIdentity | undefined
}

type Api = Pick<TeamServerApi, 'fileInfo' | 'listFolder' | 'walkFolder'>

const under = (dir: string, path: string): boolean => dir === '' || path.startsWith(`${dir}/`)
const byKindThenName = (a: FolderEntry, b: FolderEntry): number =>
  (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name)

export function shareListing (api: Api, link: ShareLinkRecord): ShareListing {
  const { folder } = link
  const current = (path: string): FolderEntry | undefined => {
    const entry = api.fileInfo(folder, path)
    return entry === undefined || entry.deleted ? undefined : entry
  }
  if (link.snapshot === undefined) {
    return {
      list: dir => api.listFolder(folder, dir).filter(e => !e.deleted && (e.type === 'file' || e.type === 'dir')).sort(byKindThenName),
      files: dir => api.walkFolder(folder, dir).filter(e => e.type === 'file' && !e.deleted),
      file: path => { const e = current(path); return e?.type === 'file' ? e : undefined },
      isDir: path => path === link.path || current(path)?.type === 'dir',
      changed: () => 0,
      versionOf: () => undefined
    }
  }
  // A snapshot: only its frozen files, each as it was, while the history keeps that version.
  const frozen = new Map<string, SnapshotFile>(link.snapshot.map(f => [f.path, f]))
  const live = (path: string): FolderEntry | undefined => {
    const f = frozen.get(path)
    return f === undefined ? undefined : api.fileInfo(folder, path, { size: f.size, mtimeMs: f.mtimeMs, modifiedBy: f.modifiedBy })
  }
  const files = (dir: string): FolderEntry[] => [...frozen.keys()].filter(p => under(dir, p)).sort().flatMap(p => live(p) ?? [])
  return {
    list (dir) {
      const seen = new Map<string, FolderEntry>()
      for (const entry of files(dir)) {
        const rest = entry.path.slice(dir === '' ? 0 : dir.length + 1)
        const slash = rest.indexOf('/')
        if (slash < 0) seen.set(rest, entry)
        else if (!seen.has(rest.slice(0, slash))) {
          const name = rest.slice(0, slash)
          seen.set(name, { name, path: dir === '' ? name : `${dir}/${name}`, type: 'dir', size: 0, mtimeMs: entry.mtimeMs, deleted: false, modifiedBy: entry.modifiedBy })
        }
      }
      return [...seen.values()].sort(byKindThenName)
    },
    files,
    file: live,
    isDir: path => path === link.path || [...frozen.keys()].some(p => p.startsWith(`${path}/`)),
    changed: () => [...frozen.keys()].filter(p => live(p) === undefined).length,
    versionOf: entry => ({ size: entry.size, mtimeMs: entry.mtimeMs, modifiedBy: entry.modifiedBy })
  }
}
