import { TypedEventEmitter } from '@libp2p/interface'
import { IGNORE_FILE, NO_IGNORE_FILE, scanFolder, watchFolder } from '../scan/index.ts'
import type { FolderIndex } from '../index/index.ts'
import type { BrakeReason, FolderWatcher, IgnoreRules, ScanProgress } from '../scan/index.ts'

/**
 * One synced folder on this device: it scans at start, then watches the folder and scans
 * just what changed, and rescans it all periodically for what a watcher misses. It keeps
 * the folder's state for status and the UI. Data exchange with peers builds on this.
 */
export type FolderState = 'idle' | 'scanning' | 'needs-confirmation' | 'error'

export interface FolderStatus {
  id: string
  path: string
  label: string
  state: FolderState
  /** Why the folder waits for confirmation (see scan/scanner.ts, safety brake). */
  brake?: BrakeReason
  error?: string
  /** Files, directories and symlinks in the folder as of the last scan (unchanged by one a brake held back). */
  files: number
  lastScan?: string
  /** Per-file problems of the last scan of the whole folder and of those of changed paths since. */
  problems: Array<{ path: string, message: string }>
  /** Changes are seen as they happen (otherwise only by the periodic rescan). */
  watching?: boolean
  /** Why some or all of the folder cannot be watched, and what to do. */
  watchError?: string
}

export interface FolderRunnerEvents {
  state: CustomEvent<FolderStatus>
  progress: CustomEvent<ScanProgress & { folder: string }>
  /** A scan recorded changes: peers can be told at once. */
  scanned: CustomEvent<{ folder: string, changed: number }>
}

export interface FolderRunnerInit {
  id: string
  path: string
  label?: string
  index: FolderIndex
  /** Periodic rescan, catching what a watcher missed (default 60 s). */
  rescanMs?: number
  /** Watch the folder and scan what changed at once (default true). */
  watch?: boolean
}

const MAX_PROBLEMS_SHOWN = 100
/** More changed paths than this are found sooner by one scan of the whole folder. */
const MAX_SCOPED_PATHS = 10_000

export class FolderRunner extends TypedEventEmitter<FolderRunnerEvents> {
  private readonly init: FolderRunnerInit
  private readonly current: FolderStatus
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private readonly stopping = new AbortController()
  private confirm = false
  private rules?: IgnoreRules
  private watcher?: FolderWatcher
  private watcherClosing?: Promise<void>
  /** Paths the watcher reported that no scan has looked at yet. */
  private readonly changed = new Set<string>()
  private changedQueued = false
  /** Deletions scoped scans recorded since the last complete scan (see ScanOptions.deletedBefore). */
  private deletedSinceComplete = 0

  constructor (init: FolderRunnerInit) {
    super()
    this.init = init
    this.current = { id: init.id, path: init.path, label: init.label ?? init.id, state: 'idle', files: 0, problems: [] }
  }

  /** What the folder never scans or syncs (the puller skips it too): its rules as of the last scan. */
  readonly ignores = (path: string, isDir: boolean): boolean => (this.rules ?? NO_IGNORE_FILE).ignores(path, isDir)

  status (): FolderStatus {
    return { ...this.current, problems: [...this.current.problems] }
  }

  start (): void {
    this.schedule(0)
  }

  /** Scans now (or right after the scan that is running) and resolves when done. */
  async scanNow (): Promise<FolderStatus> {
    while (this.running != null) await this.running
    await this.startScan()
    return this.status()
  }

  /** The user says the files really are gone: record the deletions on the next scan. */
  async confirmDeletions (): Promise<FolderStatus> {
    this.confirm = true
    return await this.scanNow()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.stopping.abort()
    this.closeWatcher()
    await this.watcherClosing
    await this.running?.catch(() => {})
  }

  private schedule (ms: number): void {
    clearTimeout(this.timer)
    if (this.stopping.signal.aborted) return
    this.timer = setTimeout(() => {
      this.scanNow().catch(() => {}).finally(() => {
        // After the first scan, so the watcher's events find the index filled. A watcher whose
        // folder root went away (moved, unmounted) watches nothing: it is started anew.
        if (this.watcher?.watching === false) this.closeWatcher()
        else this.startWatching()
        this.schedule(this.init.rescanMs ?? 60_000)
      })
    }, ms)
  }

  /** Scans `paths` (or everything) now: the caller has waited for the scan that was running. */
  private async startScan (paths?: string[]): Promise<void> {
    // What the watcher reported until now is covered by this scan.
    this.changed.clear()
    this.running = this.scan(paths).finally(() => { this.running = undefined })
    await this.running
  }

  private startWatching (): void {
    if (this.init.watch === false || this.watcher != null || this.watcherClosing != null || this.stopping.signal.aborted) return
    try {
      this.set({ watchError: undefined })
      const watcher = watchFolder({
        root: this.init.path,
        // .aerieignore is watched even when it ignores itself: its changes change what is synced.
        ignore: (path, isDir) => path !== IGNORE_FILE && this.ignores(path, isDir),
        onChanges: (paths) => { this.changedOnDisk(paths) },
        onError: (err) => { this.set({ watchError: err.message }) }
      })
      this.watcher = watcher
      watcher.ready.then(() => { if (this.watcher === watcher) this.set({ watching: watcher.watching }) }, () => {})
    } catch (err) {
      this.set({ watching: false, watchError: (err as Error).message })
    }
  }

  private closeWatcher (): void {
    const watcher = this.watcher
    if (watcher == null) return
    this.watcher = undefined
    this.set({ watching: false })
    this.watcherClosing = watcher.close().catch(() => {}).finally(() => {
      this.watcherClosing = undefined
      this.startWatching()
    })
  }

  /** A batch from the watcher: scanned after the scan that is running, merged with what comes meanwhile. */
  private changedOnDisk (paths: string[]): void {
    for (const path of paths) this.changed.add(path)
    if (this.changedQueued) return
    this.changedQueued = true
    void this.scanChanged()
  }

  private async scanChanged (): Promise<void> {
    while (this.running != null) await this.running
    this.changedQueued = false
    if (this.changed.size === 0 || this.stopping.signal.aborted) return
    // A brake (or an error) is lifted only by a scan of the whole folder, never by a few paths.
    const whole = this.current.brake != null || this.current.state === 'error' || this.changed.size > MAX_SCOPED_PATHS
    await this.startScan(whole ? undefined : [...this.changed])
  }

  private async scan (paths?: string[]): Promise<void> {
    this.set({ state: 'scanning' })
    try {
      const confirm = paths == null && this.confirm
      const result = await scanFolder({
        folderId: this.init.id,
        root: this.init.path,
        index: this.init.index,
        ignoreRules: this.rules,
        paths,
        confirmDeletions: confirm,
        deletedBefore: this.deletedSinceComplete,
        signal: this.stopping.signal,
        onProgress: (progress) => { this.safeDispatchEvent('progress', { detail: { ...progress, folder: this.init.id } }) }
      })
      if (confirm) this.confirm = false
      this.useRules(result.ignoreRules)
      const whole = !result.scoped
      if (result.brake == null) this.deletedSinceComplete = whole ? 0 : this.deletedSinceComplete + result.deleted
      this.set({
        state: result.brake != null ? 'needs-confirmation' : 'idle',
        brake: result.brake,
        error: undefined,
        files: result.brake != null ? this.current.files : whole ? result.files : result.total ?? this.current.files,
        lastScan: whole ? new Date().toISOString() : this.current.lastScan,
        // A scoped scan saw only its paths: the problems found elsewhere still stand.
        problems: (whole ? result.problems : [...result.problems, ...this.current.problems.filter(p => !result.problems.some(q => q.path === p.path))]).slice(0, MAX_PROBLEMS_SHOWN)
      })
      if (result.changed > 0) this.safeDispatchEvent('scanned', { detail: { folder: this.init.id, changed: result.changed } })
    } catch (err) {
      if (this.stopping.signal.aborted) return
      this.set({ state: 'error', brake: undefined, error: (err as Error).message })
    }
  }

  private useRules (rules: IgnoreRules | undefined): void {
    if (rules == null || rules === this.rules) return
    this.rules = rules
    // The watcher skipped what the old rules ignored and watches what the new ones do: start it anew.
    this.closeWatcher()
  }

  private set (changes: Partial<FolderStatus>): void {
    Object.assign(this.current, changes)
    this.safeDispatchEvent('state', { detail: this.status() })
  }
}
