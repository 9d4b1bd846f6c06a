import { readSync } from 'node:fs'
import { SyncWhileQuick } from './sync-while-quick.ts'
import type { FileHandle } from 'node:fs/promises'

/** Reads `length` bytes into `buf` at `at`, or until end of file; returns how many it got. */
export async function readFully (file: FileHandle, buf: Uint8Array, at: number, length: number, position: number): Promise<number> {
  let done = 0
  while (done < length) {
    const { bytesRead } = await file.read(buf, at + done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

/** readFully on the event loop, from a file descriptor. */
export function readFullySync (fd: number, buf: Uint8Array, at: number, length: number, position: number): number {
  let done = 0
  while (done < length) {
    const bytesRead = readSync(fd, buf, at + done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

/**
 * readFully for many small reads of files mostly in the page cache (chunks a peer asks for,
 * chunks a restore reads from recent packs), on the event loop while reads are quick (see
 * SyncWhileQuick): sending 1 GiB took 2.3–2.6 CPU-s on the sender instead of 2.8–3.4 through the
 * pool (alternated runs of `npm run bench -- sync --only big`).
 */
export class QuickReads {
  private readonly calls: SyncWhileQuick

  constructor (options: { now?: () => number } = {}) {
    this.calls = new SyncWhileQuick(options)
  }

  async readFully (file: FileHandle, buf: Uint8Array, at: number, length: number, position: number): Promise<number> {
    return await this.calls.call(() => readFullySync(file.fd, buf, at, length, position), async () => await readFully(file, buf, at, length, position))
  }
}
