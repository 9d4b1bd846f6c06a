/** Synchronous calls that took longer than this waited for the disk, not the page cache. */
const SLOW_MS = 4
/** After this many slow runs in a row, calls go through the thread pool for POOL_MS. */
const SLOW_IN_A_ROW = 2
const POOL_MS = 10_000

/**
 * Whether small file system calls run synchronously on the event loop or through libuv's
 * thread pool. On the page cache a read, a small write or a file's creation is a system call of
 * a few microseconds, while a trip through the pool (wake a thread, switch to it, hand the
 * result back, resolve a promise) costs more than the call. Runs that took the disk's time twice
 * in a row send the calls of the next POOL_MS through the pool, so a cold, slow or network disk
 * does not hold the event loop up for more than those runs (one slow run alone may only have
 * been descheduled on a busy machine).
 */
export class SyncWhileQuick {
  private poolUntil = -Infinity
  private slowInARow = 0
  private readonly now: () => number

  constructor (options: { now?: () => number } = {}) {
    this.now = options.now ?? (() => performance.now())
  }

  /** Whether to call synchronously now (through `run`), rather than through the pool. */
  get quick (): boolean {
    return this.now() >= this.poolUntil
  }

  /** `sync` on the event loop (timed) while calls are quick, else `pooled`. */
  async call<T> (sync: () => T, pooled: () => Promise<T>): Promise<T> {
    return this.quick ? this.run(sync) : await pooled()
  }

  /** Runs synchronous calls, timing them. */
  run<T> (calls: () => T): T {
    const started = this.now()
    try {
      return calls()
    } finally {
      const ended = this.now()
      this.slowInARow = ended - started > SLOW_MS ? this.slowInARow + 1 : 0
      if (this.slowInARow >= SLOW_IN_A_ROW) {
        this.slowInARow = 0
        this.poolUntil = ended + POOL_MS
      }
    }
  }
}
