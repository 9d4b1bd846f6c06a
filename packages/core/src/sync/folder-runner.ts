import { TypedEventEmitter } from '@libp2p/interface'
import { FOLDER_MARKER, scanFolder } from '../scan/index.ts'
import type { FolderIndex } from '../index/index.ts'
import type { BrakeReason, ScanProgress } from '../scan/index.ts'

/**
 * One synced folder on this device: it scans at start and then periodically, and keeps
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
  /** Files, directories and symlinks the last complete scan saw. */
  files: number
  lastScan?: string
  /** Per-file problems of the last scan (unreadable files, names the index refuses). */
  problems: Array<{ path: string, message: string }>
}

export interface FolderRunnerEvents {
  state: CustomEvent<FolderStatus>
  progress: CustomEvent<ScanProgress & { folder: string }>
}

export interface FolderRunnerInit {
  id: string
  path: string
  label?: string
  index: FolderIndex
  /** Periodic rescan, catching what a watcher missed (default 60 s). */
  rescanMs?: number
}

const MAX_PROBLEMS_SHOWN = 100

/** What the user should do about a folder that waits for confirmation (for the CLI, logs, UI). */
export function brakeAdvice (folder: Pick<FolderStatus, 'id' | 'path' | 'brake'>): string | undefined {
  switch (folder.brake) {
    case 'root-missing':
    case 'marker-missing':
      return `${folder.path} is missing or not mounted (no ${FOLDER_MARKER} marker), so nothing was recorded: mount the disk or restore the folder; if it moved, \`aerie folder remove ${folder.id}\` and add the new place`
    case 'mass-deletion':
      return `most files of ${folder.path} are gone, so nothing was recorded: put them back, or \`aerie folder confirm ${folder.id}\` if they really should be deleted everywhere`
    default:
      return undefined
  }
}

export class FolderRunner extends TypedEventEmitter<FolderRunnerEvents> {
  private readonly init: FolderRunnerInit
  private readonly current: FolderStatus
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private readonly stopping = new AbortController()
  private confirm = false

  constructor (init: FolderRunnerInit) {
    super()
    this.init = init
    this.current = { id: init.id, path: init.path, label: init.label ?? init.id, state: 'idle', files: 0, problems: [] }
  }

  status (): FolderStatus {
    return { ...this.current, problems: [...this.current.problems] }
  }

  start (): void {
    this.schedule(0)
  }

  /** Scans now (or right after the scan that is running) and resolves when done. */
  async scanNow (): Promise<FolderStatus> {
    while (this.running != null) await this.running
    this.running = this.scan().finally(() => { this.running = undefined })
    await this.running
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
    await this.running?.catch(() => {})
  }

  private schedule (ms: number): void {
    clearTimeout(this.timer)
    if (this.stopping.signal.aborted) return
    this.timer = setTimeout(() => {
      this.scanNow().catch(() => {}).finally(() => { this.schedule(this.init.rescanMs ?? 60_000) })
    }, ms)
  }

  private async scan (): Promise<void> {
    this.set({ state: 'scanning' })
    try {
      const result = await scanFolder({
        folderId: this.init.id,
        root: this.init.path,
        index: this.init.index,
        confirmDeletions: this.confirm,
        signal: this.stopping.signal,
        onProgress: (progress) => { this.safeDispatchEvent('progress', { detail: { ...progress, folder: this.init.id } }) }
      })
      this.confirm = false
      this.set({
        state: result.brake != null ? 'needs-confirmation' : 'idle',
        brake: result.brake,
        error: undefined,
        files: result.brake != null ? this.current.files : result.files,
        lastScan: new Date().toISOString(),
        problems: result.problems.slice(0, MAX_PROBLEMS_SHOWN)
      })
    } catch (err) {
      if (this.stopping.signal.aborted) return
      this.set({ state: 'error', brake: undefined, error: (err as Error).message })
    }
  }

  private set (changes: Partial<FolderStatus>): void {
    Object.assign(this.current, changes)
    this.safeDispatchEvent('state', { detail: this.status() })
  }
}
