import { closeSync, fstatSync, openSync } from 'node:fs'
import { isChunk, MIN_CHUNK_SIZE } from '../chunking/index.ts'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { OpenFiles, READ_NONBLOCKING } from '../util/open-files.ts'
import { QuickReads, readFully, readFullySync } from '../util/read-fully.ts'
import type { FolderIndex } from '../index/index.ts'
import type { Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/**
 * Chunks this device already has on disk, found through the index (any folder, or one):
 * the dedupe source for the puller and the source the chunk server answers from. A file
 * may have changed since it was scanned, so a chunk is only returned when its bytes still
 * hash to what was asked.
 */
export interface LocalChunks {
  /**
   * `sent`: the bytes go to a peer, which verifies them itself. Then a file that is still the
   * one the scanner hashed (same inode, size and mtime: the scanner's own test) is not hashed
   * again; any other file is, so that nothing but the asked-for chunk can leave this device
   * (a file replaced by a symlink to elsewhere, say). Bytes this device writes are always hashed.
   */
  read(hash: Uint8Array, size: number, options?: { folder?: string, sent?: boolean }): Promise<Uint8Array | undefined>
  /** Closes the files kept open between reads. */
  close(): Promise<void>
}

export function createLocalChunks (index: FolderIndex, folderRoot: (folder: string) => string | undefined): LocalChunks {
  const files = new OpenFiles()
  // Chunks a peer asks for are mostly in the page cache: read on the event loop.
  const reads = new QuickReads()
  // Per open file, once: is it still the file the scanner hashed? (fstat and a record lookup
  // per chunk would be 16 000 of each per GiB sent.)
  const scannedFiles = new WeakMap<FileHandle, Promise<boolean>>()
  const isScanned = async (file: FileHandle, folder: string, path: string): Promise<boolean> => {
    let verdict = scannedFiles.get(file)
    if (verdict === undefined) {
      verdict = file.stat().then(stats => asScanned(index.getLocal(folder, path), stats), () => false)
      scannedFiles.set(file, verdict)
    }
    return await verdict
  }
  return {
    async read (hash, size, options = {}) {
      for (const place of index.findChunk(hash)) {
        if (place.size !== size || (options.folder !== undefined && place.folder !== options.folder)) continue
        const root = folderRoot(place.folder)
        if (root === undefined) continue
        const path = join(root, place.path)
        let read: { bytes: Uint8Array | undefined, scanned: boolean } | undefined
        if (place.offset === 0 && size < MIN_CHUNK_SIZE) {
          const whole = readWholeFile(path, size)
          read = whole && { bytes: whole.bytes, scanned: options.sent === true && asScanned(index.getLocal(place.folder, place.path), whole.stats) }
        } else {
          read = await files.with(path, async (file) => {
            const bytes = await readChunkAt(file, place.offset, size, reads)
            return { bytes, scanned: options.sent === true && bytes !== undefined && await isScanned(file, place.folder, place.path) }
          })
        }
        if (read?.bytes !== undefined && (read.scanned || isChunk(read.bytes, hash))) return read.bytes
      }
      return undefined
    },
    async close () {
      await files.close()
    }
  }
}

/**
 * A chunk shorter than the chunker's minimum at the start of a file is the whole file. Such
 * files are read in one synchronous step: four trips to the thread pool (open, fstat, read,
 * close) cost 3–5 times the CPU of the calls themselves, for each of a folder's many small
 * files (20 000 files of 4 KiB: 0.15 CPU-s synchronously, 0.5–0.8 through the pool).
 */
function readWholeFile (path: string, size: number): { bytes: Uint8Array, stats: Stats } | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, READ_NONBLOCKING)
    const stats = fstatSync(fd)
    if (!stats.isFile() || stats.size < size) return undefined
    const bytes = new Uint8Array(size)
    return readFullySync(fd, bytes, 0, size, 0) === size ? { bytes, stats } : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * `size` bytes at `offset` (into memory not zero-filled first: every byte is read into it, or it
 * is not used), or undefined when the file ends before. Through the thread pool unless `reads`
 * says otherwise.
 */
async function readChunkAt (file: FileHandle, offset: number, size: number, reads: Pick<QuickReads, 'readFully'> = { readFully }): Promise<Uint8Array | undefined> {
  const bytes = Buffer.allocUnsafeSlow(size)
  return await reads.readFully(file, bytes, 0, size, offset) === size ? bytes : undefined
}

/** Whether an open file is the very one the index's local record describes. */
function asScanned (local: ReturnType<FolderIndex['getLocal']>, stats: Stats): boolean {
  return local !== undefined && !local.deleted && local.type === 'file' && local.inode !== undefined &&
    stats.isFile() && stats.ino === local.inode && stats.size === local.size && Math.floor(stats.mtimeMs) === local.mtimeMs
}

/** `size` bytes of a file at `offset`, once: undefined when the file is gone or shorter. */
export async function readAt (path: string, offset: number, size: number): Promise<Uint8Array | undefined> {
  let file
  try {
    file = await open(path, READ_NONBLOCKING)
    return await readChunkAt(file, offset, size)
  } catch {
    return undefined
  } finally {
    await file?.close()
  }
}
