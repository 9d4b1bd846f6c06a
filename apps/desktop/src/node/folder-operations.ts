import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { assertNoSymlinkParents, InvalidInputError, isValidPath, NotConfiguredError } from '@aerie/core'
import { conflictCopies, resolveConflict } from './conflicts.ts'
import { addFolder, removeFolder, setFolderPaused } from './folder-config.ts'
import { listDirectory } from './folder-files.ts'
import { FileResult } from './ui/file-result.ts'
import { restoreVersion, versionsOf } from './versions.ts'
import type { FileVersion, FolderIndex, ServerVersion, SyncEngine, SyncFolderStatus } from '@aerie/core'
import type { ConflictChoice, ConflictCopy } from './conflicts.ts'
import type { DeviceHome, FolderConfig } from './device-home.ts'
import type { NewFolder } from './folder-config.ts'
import type { FolderEntry } from './folder-files.ts'
import type { Restored, VersionTarget } from './versions.ts'

/**
 * What the agent does to its folders on a person's behalf (the UI asks; the CLI does the
 * same on disk through the shared modules): files with their state, conflict copies,
 * versions, adding and removing folders. Every change is followed by a rescan so it syncs now.
 */
export interface FolderOperationsInit {
  home: DeviceHome
  index: FolderIndex
  sync: SyncEngine
  /** config.json changed: start and stop folders to match. */
  reload(): Promise<void>
}

export interface FileVersions {
  versions: FileVersion[]
  /** What the team server keeps (none when there is no team server). */
  server: ServerVersion[]
  /** Why the team server could not be asked, when it could not. */
  serverNote?: string
}

export class FolderOperations {
  private readonly init: FolderOperationsInit
  /** Conflict copies per folder, as of the folder's local sequence: a listing walks every record. */
  private readonly conflictCache = new Map<string, { sequence: number, copies: ConflictCopy[] }>()

  constructor (init: FolderOperationsInit) {
    this.init = init
  }

  status (id: string): SyncFolderStatus {
    const folder = this.init.sync.folderStatus().find(f => f.id === id)
    if (folder === undefined) throw new NotConfiguredError(`no folder "${id}" on this device`)
    return folder
  }

  files (id: string, dir: string): FolderEntry[] {
    return listDirectory(this.init.index, this.status(id).id, dir)
  }

  conflicts (id: string): ConflictCopy[] {
    const { index } = this.init
    const sequence = index.localSequence(this.status(id).id)
    const cached = this.conflictCache.get(id)
    if (cached?.sequence === sequence) return cached.copies
    const copies = conflictCopies(index.localFiles(id)).map(copy => {
      const current = index.getLocal(id, copy.original)
      return current === undefined || current.deleted ? copy : { ...copy, current: { size: current.size, mtimeMs: current.mtimeMs } }
    })
    this.conflictCache.set(id, { sequence, copies })
    return copies
  }

  async resolveConflict (id: string, path: string, keep: ConflictChoice): Promise<{ kept: string, folder: SyncFolderStatus }> {
    const { kept } = await resolveConflict(this.status(id).path, checkPath(path), keep)
    return { kept, folder: await this.init.sync.scanNow(id) }
  }

  async versions (id: string, path: string): Promise<FileVersions> {
    const target = await this.target(id, path)
    const versions = await versionsOf(target)
    try {
      return { versions, server: path === '' ? [] : await this.init.sync.serverVersions(id, path) }
    } catch (err) {
      return { versions, server: [], serverNote: `the team server was not asked: ${(err as Error).message}` }
    }
  }

  async restore (id: string, path: string, at: Date): Promise<Restored> {
    const restored = await restoreVersion(await this.target(id, checkPath(path)), at, async () => await this.init.sync.serverRestore(id, path, at))
    if ('local' in restored) await this.init.sync.scanNow(id)
    return restored
  }

  async add (input: NewFolder): Promise<FolderConfig> {
    const folder = await addFolder(this.init.home, input)
    await this.init.reload()
    return folder
  }

  /** A regular file of the folder, to show in the browser (never through a symlink out of it). */
  async open (id: string, path: string): Promise<FileResult> {
    if (!isValidPath(path)) throw new InvalidInputError(`"${path}" is not a path inside the folder`)
    const root = this.status(id).path
    await assertNoSymlinkParents(root, path)
    const stats = await lstat(join(root, path)).catch(() => undefined)
    if (stats === undefined || !stats.isFile()) throw new NotConfiguredError(`folder ${id} has no file "${path}" on this device`)
    return new FileResult(join(root, path), path.slice(path.lastIndexOf('/') + 1))
  }

  async setPaused (id: string, paused: boolean): Promise<SyncFolderStatus> {
    await setFolderPaused(this.init.home, this.status(id).id, paused)
    await this.init.reload()
    return this.status(id)
  }

  async remove (id: string): Promise<FolderConfig> {
    const folder = await removeFolder(this.init.home, id)
    this.conflictCache.delete(id)
    await this.init.reload()
    return folder
  }

  private async target (id: string, path: string): Promise<VersionTarget> {
    const root = this.status(id).path
    if (path !== '') checkPath(path)
    const st = await lstat(join(root, path)).catch(() => undefined)
    return { root, rel: path, kind: path === '' || st?.isDirectory() === true ? 'directory' : st === undefined ? 'missing' : 'file' }
  }
}

function checkPath (path: string): string {
  if (!isValidPath(path)) throw new InvalidInputError(`"${path}" is not a path in the folder`)
  return path
}
