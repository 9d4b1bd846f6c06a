import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** Writes the buffers at `position`, all of them (writev may write less, e.g. on a full disk). */
export async function writeAll (file: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let rest = buffers
  let at = position
  // Bounded: every turn writes at least one byte or throws.
  for (let total = rest.reduce((sum, b) => sum + b.byteLength, 0); total > 0;) {
    const { bytesWritten } = await file.writev(rest, at)
    if (bytesWritten === 0) throw new Error(`no bytes written at ${at} (is the disk full?)`)
    total -= bytesWritten
    at += bytesWritten
    if (total > 0) rest = [Buffer.concat(rest).subarray(bytesWritten)]
  }
}

/** fsyncs a directory, so that the names created, renamed or removed in it survive a power cut. */
export async function syncDirectory (path: string): Promise<void> {
  const directory = await open(path, 'r')
  try { await directory.sync() } finally { await directory.close() }
}
