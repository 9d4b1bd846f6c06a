/**
 * When each folder's pull runs, for the sync engine and the central copy alike: a change
 * schedules one after a short debounce; a folder pulls one at a time, and a change during a
 * pull runs another right after it; a pull that left work undone is retried later.
 */
export interface PullSchedulerInit {
  /** Runs one pull of the folder; true when some of it must be tried again later. */
  pull(id: string): Promise<boolean>
  /** Whether the folder may pull now (e.g. scanned at least once); a pull it skips is not retried. */
  ready?(id: string): boolean
  debounceMs: number
  retryMs: number
}

interface FolderPulls {
  timer?: NodeJS.Timeout
  retry?: NodeJS.Timeout
  running?: Promise<void>
  again: boolean
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
    if (this.stopped || folder.timer !== undefined) return
    folder.timer = setTimeout(() => {
      folder.timer = undefined
      this.start(id)
    }, this.init.debounceMs)
  }

  isPulling (id: string): boolean {
    return this.folders.get(id)?.running !== undefined
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

  private state (id: string): FolderPulls {
    let folder = this.folders.get(id)
    if (folder === undefined) this.folders.set(id, folder = { again: false })
    return folder
  }

  private start (id: string): void {
    const folder = this.folders.get(id)
    if (folder === undefined || this.stopped || this.init.ready?.(id) === false) return
    if (folder.running !== undefined) { folder.again = true; return }
    clearTimeout(folder.retry)
    folder.running = this.init.pull(id).then(
      retry => {
        if (retry && !this.stopped && this.folders.get(id) === folder) folder.retry = setTimeout(() => { this.start(id) }, this.init.retryMs)
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
