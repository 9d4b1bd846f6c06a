import { readSync } from 'node:fs'
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

/** A read of the event loop's own longer than this was the disk's, not the page cache's. */
const SLOW_READ_MS = 4
/** After this many slow reads in a row, reads go through the thread pool for POOL_READS_MS. */
const SLOW_READS = 2
const POOL_READS_MS = 10_000

/**
 * readFully for many small reads of files mostly in the page cache (chunks a peer asks for,
 * chunks a restore reads from recent packs). There a 64 KiB read is a copy of ≈ 10–20 µs,
 * done on the event loop, synchronously: a trip through libuv's thread pool (wake a thread,
 * switch to it, hand the result back) costs more than the copy (sending 1 GiB: 2.3–2.6 CPU-s
 * on the sender instead of 2.8–3.4, alternated runs of `npm run bench -- sync --only big`). A
 * read that took the disk's time, twice in a row, sends the reads of the next POOL_READS_MS
 * through the pool, so a cold or slow disk does not hold the event loop up for more than those
 * reads (one slow read alone may only have been descheduled on a busy machine).
 */
export class QuickReads {
  private poolUntil = -Infinity
  private slowInARow = 0
  private readonly now: () => number

  constructor (options: { now?: () => number } = {}) {
    this.now = options.now ?? (() => performance.now())
  }

  async readFully (file: FileHandle, buf: Uint8Array, at: number, length: number, position: number): Promise<number> {
    const started = this.now()
    if (started < this.poolUntil) return await readFully(file, buf, at, length, position)
    const done = readFullySync(file.fd, buf, at, length, position)
    const ended = this.now()
    this.slowInARow = ended - started > SLOW_READ_MS ? this.slowInARow + 1 : 0
    if (this.slowInARow >= SLOW_READS) {
      this.slowInARow = 0
      this.poolUntil = ended + POOL_READS_MS
    }
    return done
  }
}
