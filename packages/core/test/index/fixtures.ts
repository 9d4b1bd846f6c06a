import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFolderIndex } from '../../src/index/index.ts'
import type { ChunkRef, FileRecord, FolderIndex, LocalChange } from '../../src/index/index.ts'

export const DEVICE_A = 'AAAAAAA-device-a'
export const DEVICE_B = 'BBBBBBB-device-b'
export const DEVICE_C = 'CCCCCCC-device-c'

/** A temp directory that index files can live in; `cleanup` closes what was opened and removes it. */
export function tempIndexes (prefix = 'aerie-index-'): { dir: string, open: (deviceId: string, name?: string) => FolderIndex, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const opened: FolderIndex[] = []
  return {
    dir,
    open (deviceId, name = deviceId) {
      const index = openFolderIndex(join(dir, `${name}.sqlite`), deviceId)
      opened.push(index)
      return index
    },
    cleanup () {
      for (const index of opened) index.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export function chunk (content: string): ChunkRef {
  return { hash: new Uint8Array(createHash('sha256').update(content).digest()), size: Buffer.byteLength(content) }
}

/** A file whose content is the given pieces, one chunk each. */
export function file (path: string, pieces: string[] = [path], mtimeMs = 1_700_000_000_000): LocalChange {
  const chunks = pieces.map(chunk)
  return { path, type: 'file', size: chunks.reduce((sum, c) => sum + c.size, 0), mtimeMs, mode: 0o644, deleted: false, chunks }
}

export function tombstone (path: string, mtimeMs = 1_700_000_100_000): LocalChange {
  return { path, type: 'file', size: 0, mtimeMs, mode: 0o644, deleted: true, chunks: [] }
}

/** Everything device `from` has announced for the folder, as the sync layer would send it. */
export function announce (from: FolderIndex, folder: string): FileRecord[] {
  return from.localSince(folder, 0, 1_000_000)
}
