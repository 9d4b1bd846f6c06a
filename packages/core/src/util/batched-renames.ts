import { rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { ByteBudget } from './byte-budget.ts'

/**
 * Written temporary files put in place once durable: fsynced, closed, then renamed over their
 * final names, so a final name never holds a partial file. The writer hands a file over and
 * goes on with the next while the fsyncs run in batches: everything handed over during one
 * batch's fsyncs forms the next. An fsync made while other files are being written waits for
 * a journal commit of its own (7 ms a file here, while a restore wrote 16 files at once); in
 * a batch, the first commit carries most of the others, as `cp` followed by `sync` does.
 */
export class BatchedRenames {
  private queue: Item[] = []
  private inBatch = 0
  private draining: Promise<void> | undefined
  private readonly room: Array<() => void> = []
  private readonly syncs: ByteBudget
  private readonly maxFiles: number

  /**
   * `syncs` counts fsyncs under way (shared with other syncs of the caller's) and so bounds
   * how many run at once; at most `maxFiles` files wait, open.
   */
  constructor (options: { syncs: ByteBudget, maxFiles: number }) {
    this.syncs = options.syncs
    this.maxFiles = options.maxFiles
  }

  /**
   * Takes over `file` (written in full; it is closed here) to be renamed from `temp` to `final`
   * once fsynced. Returns when there is room for more (the writers' back-pressure); `done`
   * settles when the file is in place, or rejects when it is not (the temporary file removed).
   */
  async add (file: FileHandle, temp: string, final: string): Promise<{ done: Promise<void> }> {
    const done = Promise.withResolvers<void>()
    this.queue.push({ file, temp, final, done })
    this.draining ??= this.drain()
    // Bounded: each batch that ends makes room and wakes the waiters.
    while (this.queue.length + this.inBatch > this.maxFiles) await new Promise<void>(resolve => this.room.push(resolve))
    return { done: done.promise }
  }

  private async drain (): Promise<void> {
    // Bounded: each turn empties the queue, which refills only from add().
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      this.inBatch = batch.length
      await Promise.all(batch.map(async item => { await this.putInPlace(item) }))
      this.inBatch = 0
      for (const wake of this.room.splice(0)) wake()
    }
    this.draining = undefined
  }

  private async putInPlace ({ file, temp, final, done }: Item): Promise<void> {
    let closed = false
    try {
      await this.syncs.take(1)
      try {
        await file.sync()
      } finally {
        this.syncs.give(1)
      }
      await file.close()
      closed = true
      // Over an existing file the rename replaces it in one step.
      await rename(temp, final)
      done.resolve()
    } catch (err) {
      if (!closed) await file.close().catch(() => {})
      await rm(temp, { force: true }).catch(() => {})
      done.reject(err)
    }
  }
}

interface Item {
  file: FileHandle
  temp: string
  final: string
  done: PromiseWithResolvers<void>
}
