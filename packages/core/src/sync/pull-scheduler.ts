/**
 * When each folder's pull runs, for the sync engine and the central copy alike: a change
 * schedules one after a short debounce; a folder pulls one at a time, and a change during a
 * pull runs another right after it; a pull that left work undone is retried later, each time
 * twice as late while nothing changes (a file whose chunks no connected member has would
 * otherwise cost a pull every few seconds for as long as the agent runs). A change (a peer's
 * records, a peer connecting, a local scan) starts the waits over.
 */
export interface PullSchedulerInit {
  /** Runs one pull of the folder; true when some of it must be tried again later. */
  pull(id: string): Promise<boolean>
  /** Whether the folder may pull now (e.g. scanned at least once); a pull it skips is not retried. */
  ready?(id: string): boolean
  debounceMs: number
  /** The wait before the first retry. */
  retryMs: number
  /** The longest wait between retries (retryMs doubles up to it). Default 32 x retryMs. */
  maxRetryMs?: number
}

interface FolderPulls {
  timer?: NodeJS.Timeout
  retry?: NodeJS.Timeout
  /** When the retry is due (ms since the epoch). */
  retryAt?: number
  running?: Promise<void>
  again: boolean
  /** Pulls in a row, since the last change, that left work undone. */
  failures: number
}

export class PullScheduler {
  private readonly init: PullSchedulerInit
  private readonly folders = new Map<string, FolderPulls>()
  private stopped = false

  constructor (init: PullSchedulerInit) {
    this.init = init
  }

  /** Something changed: pull soon. */
  schedule (id: string): void {
    const folder = this.state(id)
    folder.failures = 0
    if (this.stopped || folder.timer !== undefined) return
    folder.timer = setTimeout(() => {
      folder.timer = undefined
      this.start(id)
    }, this.init.debounceMs)
  }

  isPulling (id: string): boolean {
    return this.folders.get(id)?.running !== undefined
  }

  /** When the folder's next retry is due, while one is waiting. */
  nextRetry (id: string): Date | undefined {
    const retryAt = this.folders.get(id)?.retryAt
    return retryAt === undefined ? undefined : new Date(retryAt)
  }

  /** No more pulls of the folder; resolves once the running one is over. */
  async forget (id: string): Promise<void> {
    const folder = this.folders.get(id)
    if (folder === undefined) return
    this.folders.delete(id)
    clearTimeout(folder.timer)
    clearTimeout(folder.retry)
    await folder.running
  }

  /** Resolves once no pull is running or due, bounded (tests, a clean stop). */
  async settled (): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const busy = [...this.folders.values()].filter(f => f.timer !== undefined || f.running !== undefined)
      if (busy.length === 0) return
      await Promise.all(busy.map(async f => { await f.running }))
      await new Promise(resolve => setTimeout(resolve, this.init.debounceMs))
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all([...this.folders.keys()].map(async id => { await this.forget(id) }))
  }

  /** The wait after the `failures`th pull in a row that left work undone. */
  private retryDelay (failures: number): number {
    const { retryMs, maxRetryMs = 32 * retryMs } = this.init
    return Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 30))
  }

  private state (id: string): FolderPulls {
    let folder = this.folders.get(id)
    if (folder === undefined) this.folders.set(id, folder = { again: false, failures: 0 })
    return folder
  }

  private start (id: string): void {
    const folder = this.folders.get(id)
    if (folder === undefined || this.stopped || this.init.ready?.(id) === false) return
    if (folder.running !== undefined) { folder.again = true; return }
    clearTimeout(folder.retry)
    folder.retryAt = undefined
    folder.running = this.init.pull(id).then(
      retry => {
        folder.failures = retry ? folder.failures + 1 : 0
        if (retry && !this.stopped && this.folders.get(id) === folder) {
          const delay = this.retryDelay(folder.failures)
          folder.retryAt = Date.now() + delay
          folder.retry = setTimeout(() => { this.start(id) }, delay)
        }
      },
      () => {} // pull() reports its own failures
    ).finally(() => {
      folder.running = undefined
      if (folder.again) {
        folder.again = false
        this.schedule(id)
      }
    })
  }
}
