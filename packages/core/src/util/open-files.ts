import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/**
 * Flags for opening a file to read its content. Non-blocking: opening a FIFO put in a file's
 * place would wait for a writer, holding one of libuv's four threads (or the event loop) for
 * good. A regular file ignores the flag; a reader checks it has one (fstat) or hashes what it read.
 */
export const READ_NONBLOCKING = constants.O_RDONLY | constants.O_NONBLOCK

/**
 * Read-only file handles kept open between reads of the same file: a 1 GiB file is ~16 000
 * chunks, and an open and a close for each cost more than the reading. A handle is closed
 * when it has not been used for `idleMs`, or when more than `max` are open (least recently
 * used first), never while a read is using it. A handle may outlive a rename of its file, so
 * callers check what they read (the chunk hash) as they always must.
 */
export class OpenFiles {
  private readonly handles = new Map<string, { handle: Promise<FileHandle>, busy: number, used: number }>()
  private readonly max: number
  private readonly idleMs: number
  private sweeper?: NodeJS.Timeout

  constructor (options: { max?: number, idleMs?: number } = {}) {
    this.max = options.max ?? 32
    this.idleMs = options.idleMs ?? 2_000
  }

  /** Runs `read` with an open handle of `path`; undefined when the file cannot be opened or read. */
  async with<T> (path: string, read: (file: FileHandle) => Promise<T>): Promise<T | undefined> {
    return await this.use(path, read).catch(() => undefined)
  }

  /** As `with`, but a file that cannot be opened or read throws (the pack store must tell damage from absence). */
  async use<T> (path: string, read: (file: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.handles.get(path)
    if (entry === undefined) {
      entry = { handle: open(path, READ_NONBLOCKING), busy: 0, used: Date.now() }
      this.handles.set(path, entry)
      this.evict()
      this.sweeper ??= setInterval(() => { this.sweep() }, this.idleMs).unref()
    }
    entry.busy++
    entry.used = Date.now()
    try {
      return await read(await entry.handle)
    } catch (err) {
      // Gone or unreadable: forget it, so that the next read opens the file anew.
      if (this.handles.get(path) === entry) this.handles.delete(path)
      throw err
    } finally {
      entry.busy--
      if (this.handles.get(path) !== entry && entry.busy === 0) close(entry.handle)
    }
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
    this.sweeper = undefined
    const entries = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(entries.map(async entry => { await entry.handle.then(h => h.close(), () => {}) }))
  }

  private evict (): void {
    if (this.handles.size <= this.max) return
    const oldest = [...this.handles.entries()].sort((a, b) => a[1].used - b[1].used)
    for (const [path, entry] of oldest.slice(0, this.handles.size - this.max)) this.drop(path, entry)
  }

  private sweep (): void {
    const now = Date.now()
    for (const [path, entry] of this.handles) if (now - entry.used >= this.idleMs) this.drop(path, entry)
    if (this.handles.size === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }

  private drop (path: string, entry: { handle: Promise<FileHandle>, busy: number }): void {
    this.handles.delete(path)
    if (entry.busy === 0) close(entry.handle)
  }
}

function close (handle: Promise<FileHandle>): void {
  handle.then(async h => { await h.close() }, () => {}).catch(() => {})
}
