import { fileChunks, findEntry, InvalidInputError, readChunks, readTree, SnapshotNotFoundError } from '@aerie/core'
import type { BlobSource, ChunkStore, EntryType, TreeEntry } from '@aerie/core'
import { NotFoundError } from '../accounts/errors.ts'
import type { BackupStore } from '../metadata/stores.ts'
import type { TarEntry } from './tar-archive.ts'
import { checkRelativePath } from '../relative-path.ts'

/**
 * What an administrator reads of a snapshot on the server itself: one directory's entries at a
 * time, and one file's bytes, streamed from the server's chunk store chunk by chunk. Every
 * directory object and chunk list is checked against its id (core's readTree, fileChunks), and
 * every chunk by the store as it is read, so damage ends a read with StoreDamagedError; it is
 * never passed off as content.
 */
export interface SnapshotBrowserInit {
  store: ChunkStore
  snapshots: BackupStore
}

/** An entry of a snapshot's directory, as the console shows it. */
export interface SnapshotItem {
  name: string
  type: EntryType
  /** Bytes of a file; 0 for the others. */
  size: number
  /** Permission bits (mode & 0o7777). */
  mode: number
  mtimeMs: number
  /** A symlink's target. */
  target?: string
  /** The file changed while it was backed up: its content is what the last read saw. */
  changed?: boolean
}

/** A file of a snapshot, ready to stream: its first chunk has been read (and verified) already. */
export interface SnapshotFile {
  name: string
  size: number
  mtimeMs: number
  content: AsyncIterable<Uint8Array>
}

export interface SnapshotBrowser {
  /** The entries of the directory `dir` ('' is the snapshot's root), by name. */
  list (snapshotId: string, dir: string): Promise<SnapshotItem[]>
  /**
   * Everything under the directory `dir`, as a tar archive's entries under one directory named
   * as it is (`snapshot-ID` for the root); the directory objects are read here, each file's
   * chunks when the archive comes to it.
   */
  archive (snapshotId: string, dir: string): Promise<{ name: string, entries: TarEntry[] }>
  /** A file at `path`; its first chunk is read here, so a missing or damaged start fails before any byte is sent. */
  open (snapshotId: string, path: string): Promise<SnapshotFile>
}

export function snapshotBrowser (init: SnapshotBrowserInit): SnapshotBrowser {
  const { store, snapshots } = init
  // Directory objects and chunk lists are hashed by core as they are read (getVerified); file chunks go through readChunks, which the store checks.
  const source: BlobSource = { get: async hash => await store.get(hash, { callerVerifies: true }) }

  /** The entry at `path` in the snapshot; the path is checked before anything is read. */
  async function entryAt (snapshotId: string, path: string, rootAllowed: boolean): Promise<TreeEntry> {
    checkRelativePath(path, { field: 'path', where: 'the snapshot', example: 'home/ada/Documents', rootAllowed })
    const snapshot = snapshots.snapshot(snapshotId)
    if (snapshot === undefined) throw new NotFoundError(`there is no snapshot ${snapshotId}; GET /api/v1/backup/snapshots lists them (give the whole id)`)
    try {
      return await findEntry(source, Buffer.from(snapshot.root, 'hex'), path)
    } catch (err) {
      if (err instanceof SnapshotNotFoundError) throw new NotFoundError(err.message, { cause: err })
      throw err
    }
  }

  /** The directory at `dir` ('' is the root); anything else is refused, saying how to get it. */
  async function directoryAt (snapshotId: string, dir: string): Promise<TreeEntry> {
    const entry = await entryAt(snapshotId, dir, true)
    if (entry.type !== 'dir') throw new InvalidInputError(`/${dir} is a ${entry.type} in this snapshot, not a directory${entry.type === 'file' ? `; download it with GET /api/v1/backup/snapshots/${snapshotId}/file?path=${encodeURIComponent(dir)}` : ''}`)
    return entry
  }

  /** A file's bytes, chunk by chunk, each verified by the store as it is read. */
  async function * fileContent (entry: TreeEntry): AsyncGenerator<Uint8Array> {
    yield * readChunks(store, await fileChunks(source, entry))
  }

  return {
    async list (snapshotId, dir) {
      const entry = await directoryAt(snapshotId, dir)
      return (await readTree(source, entry.tree!)).map(item)
    },
    async archive (snapshotId, dir) {
      const top = await directoryAt(snapshotId, dir)
      const name = dir === '' ? `snapshot-${snapshotId}` : dir.slice(dir.lastIndexOf('/') + 1)
      const entries: TarEntry[] = []
      // Depth first, each directory before what is in it, as tar extracts it.
      const walk = async (tree: Uint8Array, path: string, mode: number, mtimeMs: number): Promise<void> => {
        entries.push({ path, type: 'dir', mode, mtimeMs, size: 0 })
        for (const e of await readTree(source, tree)) {
          const at = `${path}/${e.name}`
          if (e.type === 'dir') await walk(e.tree!, at, e.mode, e.mtimeMs)
          else if (e.type === 'symlink') entries.push({ path: at, type: 'symlink', mode: e.mode, mtimeMs: e.mtimeMs, size: 0, target: e.target ?? '' })
          else entries.push({ path: at, type: 'file', mode: e.mode, mtimeMs: e.mtimeMs, size: e.size, content: () => fileContent(e) })
        }
      }
      await walk(top.tree!, name, top.mode, top.mtimeMs)
      return { name, entries }
    },

    async open (snapshotId, path) {
      const entry = await entryAt(snapshotId, path, false)
      if (entry.type !== 'file') throw new InvalidInputError(`/${path} is a ${entry.type === 'dir' ? 'directory' : 'symbolic link'} in this snapshot; only a file downloads (restore a directory with \`aerie restore\`)`)
      const chunks = await fileChunks(source, entry)
      const reader = readChunks(store, chunks)
      const first = await reader.next()
      async function * content (): AsyncGenerator<Uint8Array> {
        if (first.done === true) return
        yield first.value
        yield * reader
      }
      return { name: entry.name, size: chunks.reduce((n, c) => n + c.size, 0), mtimeMs: entry.mtimeMs, content: content() }
    }
  }
}

function item (e: TreeEntry): SnapshotItem {
  return {
    name: e.name,
    type: e.type,
    size: e.size,
    mode: e.mode,
    mtimeMs: e.mtimeMs,
    ...(e.target === undefined ? {} : { target: e.target }),
    ...(e.changed === true ? { changed: true } : {})
  }
}
