import { isAbsolute } from 'node:path'
import {
  AerieError, backupPaths, chunkIdFromHex, chunkIdHex, InvalidInputError, listEntries, NotConfiguredError, openRemoteRepository,
  RestoreIncompleteError, restoreSnapshot
} from '@aerie/core'
import { readBackupConfig, scheduleMs } from './backup-config.ts'
import { settingsOf } from '../device-settings.ts'
import type { AerieHost, RemoteRepository, SnapshotSummary, TreeEntry } from '@aerie/core'
import type { Connection } from '@libp2p/interface'
import type { ControlRoutes } from '../control-server.ts'
import type { DeviceHome } from '../device-home.ts'

/**
 * The agent's endpoint backup: runs backups (now, or on the schedule in config.json) and
 * restores, one job at a time, against the team server's repository (`/aerie/backup/1.1.0`).
 * The CLI starts a job through the control API and polls it for its progress line.
 */
export interface BackupAgentInit {
  home: DeviceHome
  host: AerieHost
  log(line: string): void
  /** Whether this device has met a team server (for the error when none is connected). */
  knowsTeamServer(): boolean
}

export interface JobProgress { files: number, needFiles: number, bytes: number, needBytes: number, sentBytes?: number }

export interface BackupJob {
  id: number
  kind: 'backup' | 'restore'
  state: 'running' | 'done' | 'failed'
  progress: JobProgress
  /** backup: the snapshot and the counters; restore: what was written. */
  result?: unknown
  /** A restore's request: what it restores, and where (the desktop's notification says so). */
  restore?: RestoreRequest
  error?: { code: string, message: string }
}

export interface RestoreRequest { snapshot: string, path: string, to: string, overwrite: boolean }

/** What the UI shows beside the backup set: the last run, the next one, the job. */
export interface BackupOverview {
  lastRun?: string
  lastSnapshot?: string
  /** When the schedule runs next (ISO); absent without a schedule or paths. */
  nextRun?: string
  job?: BackupJob
}

export interface BackupAgent {
  routes: ControlRoutes
  overview(): Promise<BackupOverview>
  start(): void
  stop(): Promise<void>
}

const LAST_RUN_FILE = 'backup-state.json'
/** How often the scheduler looks at config.json and the clock when no schedule is shorter. */
const TICK_MS = 30_000
/** After a failed scheduled run (server offline), the next try. */
const RETRY_MS = 60_000
/** The longest a job request waits for the job to end before it answers with the progress. */
const MAX_JOB_WAIT_MS = 5_000

export function createBackupAgent (init: BackupAgentInit): BackupAgent {
  const { home, host, log } = init
  let job: BackupJob | undefined
  /** Resolves when the job ends: a CLI waiting on it learns so at once, not at its next poll. */
  let jobEnded: Promise<void> = Promise.resolve()
  let nextId = 1
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const controller = new AbortController()
  let lastAttempt = 0

  function connection (): Connection {
    const server = host.connectedDevices().find(d => d.identity.role === 'server')
    const open = server === undefined ? undefined : host.libp2p.getConnections().find(c => c.remotePeer.toString() === server.peerId && c.status === 'open')
    if (open === undefined) {
      throw new NotConfiguredError(init.knowsTeamServer()
        ? 'the team server is not connected right now; try again when it is online'
        : 'backups go to the organisation\'s team server, and this device has not met one')
    }
    return open
  }

  async function withRepository<T> (work: (repo: RemoteRepository) => Promise<T>): Promise<T> {
    const repo = await openRemoteRepository(connection())
    try {
      return await work(repo)
    } finally {
      await repo.close()
    }
  }

  /** Starts a job unless one runs (then that one is returned). */
  function startJob (kind: BackupJob['kind'], work: (job: BackupJob) => Promise<unknown>, restore?: RestoreRequest): BackupJob {
    if (job?.state === 'running') {
      if (job.kind !== kind) throw new InvalidInputError(`a ${job.kind} is running on this device; wait until it has finished`)
      return job
    }
    const current: BackupJob = { id: nextId++, kind, state: 'running', progress: { files: 0, needFiles: 0, bytes: 0, needBytes: 0 }, ...restore === undefined ? {} : { restore } }
    job = current
    jobEnded = work(current).then(result => {
      current.result = result
      current.state = 'done'
    }, (err: Error) => {
      current.state = 'failed'
      current.error = { code: err instanceof AerieError ? err.code : 'ERR_INTERNAL', message: err.message }
      if (err instanceof RestoreIncompleteError) current.result = { failed: err.failed }
      log(`${kind} failed: ${err.message}`)
    })
    return current
  }

  async function backup (current: BackupJob): Promise<unknown> {
    const config = await readBackupConfig(home)
    lastAttempt = Date.now()
    const startedAt = new Date()
    return await withRepository(async repo => {
      const latest = await repo.open('latest', 'parent').catch(() => undefined)
      const result = await backupPaths({
        paths: config.paths,
        excludes: config.excludes,
        target: repo,
        signal: controller.signal,
        ...(latest === undefined ? {} : { parent: { source: repo, root: chunkIdFromHex(latest.root) } }),
        onProgress: p => { current.progress = p }
      })
      const snapshot = await repo.commit({ root: chunkIdHex(result.root), paths: result.paths, startedAt: startedAt.toISOString(), counters: { ...result.counters } })
      await home.write(LAST_RUN_FILE, JSON.stringify({ lastRun: startedAt.toISOString(), snapshot: snapshot.id }) + '\n')
      for (const problem of result.problems.slice(0, 20)) log(`backup: ${problem.path}: ${problem.reason}`)
      log(`backup ${snapshot.id}: ${result.counters.files} files, ${result.counters.bytes} bytes, ${result.counters.sentBytes} bytes sent${result.problems.length > 0 ? `, ${result.problems.length} problems` : ''}`)
      return { snapshot, counters: result.counters, problems: result.problems.slice(0, 1000) }
    })
  }

  async function restore (current: BackupJob, request: RestoreRequest): Promise<unknown> {
    return await withRepository(async repo => {
      const snapshot = await repo.open(request.snapshot, 'restore')
      const result = await restoreSnapshot({
        source: repo,
        root: chunkIdFromHex(snapshot.root),
        path: request.path,
        to: request.to,
        overwrite: request.overwrite,
        keepFree: settingsOf(await home.readConfig()).minDiskFree / 100,
        signal: controller.signal,
        onProgress: p => { current.progress = p }
      })
      if (result.failed.length > 0) throw new RestoreIncompleteError(result.failed)
      log(`restored ${result.files} files (${result.bytes} bytes) of snapshot ${snapshot.id} to ${request.to}`)
      return { snapshot, ...result }
    })
  }

  async function lastRunState (): Promise<{ lastRun?: string, snapshot?: string }> {
    try {
      return JSON.parse(await home.read(LAST_RUN_FILE)) as { lastRun?: string, snapshot?: string }
    } catch {
      return {}
    }
  }

  async function lastRun (): Promise<number> {
    return Date.parse((await lastRunState()).lastRun ?? '') || 0
  }

  /** When the schedule is due next: after the last run, and not sooner than a retry after a failure. */
  async function due (every: number): Promise<number> {
    return Math.max(await lastRun() + every, lastAttempt + Math.min(every, RETRY_MS))
  }

  async function tick (): Promise<number> {
    const config = await readBackupConfig(home)
    if (config.schedule === undefined || config.paths.length === 0) return TICK_MS
    const every = scheduleMs(config.schedule)
    if (Date.now() >= await due(every) && job?.state !== 'running' && host.connectedDevices().some(d => d.identity.role === 'server')) {
      log('scheduled backup starting')
      startJob('backup', backup)
    }
    return Math.min(TICK_MS, every)
  }

  function schedule (delay: number): void {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      tick().then(schedule, (err: Error) => { log(`backup schedule: ${err.message}`); schedule(TICK_MS) })
    }, delay)
  }

  const routes: ControlRoutes = {
    'POST /v1/backup/run': async () => {
      connection()
      return startJob('backup', backup)
    },
    'POST /v1/backup/job': async (body) => {
      const { id, waitMs } = (body ?? {}) as { id?: unknown, waitMs?: unknown }
      const asked = job
      if (asked === undefined || asked.id !== Number(id)) throw new InvalidInputError(`no backup or restore job ${Number(id)} on this agent`)
      // `waitMs`: answer when the job ends, or with its progress after that long at most.
      const wait = Math.min(Math.max(Number(waitMs) || 0, 0), MAX_JOB_WAIT_MS)
      if (asked.state === 'running' && wait > 0) {
        let timeout: NodeJS.Timeout | undefined
        await Promise.race([jobEnded, new Promise(resolve => { timeout = setTimeout(resolve, wait) })])
        clearTimeout(timeout)
      }
      return asked
    },
    'POST /v1/backup/reload': async () => { schedule(0); return { reloaded: true } },
    'POST /v1/restore/list': async () => ({ snapshots: await withRepository(async repo => await repo.list()) }),
    'POST /v1/restore/browse': async (body) => {
      const { snapshot, path } = (body ?? {}) as { snapshot?: unknown, path?: unknown }
      return await withRepository(async repo => {
        const opened: SnapshotSummary = await repo.open(String(snapshot ?? ''), 'browse')
        const entries: TreeEntry[] = await listEntries(repo, chunkIdFromHex(opened.root), String(path ?? ''))
        return { snapshot: opened, entries: entries.map(({ name, type, mode, mtimeMs, size, target, changed }) => ({ name, type, mode, mtimeMs, size, target, changed })) }
      })
    },
    'POST /v1/restore/start': async (body) => {
      const { snapshot, path, to, overwrite } = (body ?? {}) as { snapshot?: unknown, path?: unknown, to?: unknown, overwrite?: unknown }
      if (typeof to !== 'string' || !isAbsolute(to)) throw new InvalidInputError('a restore needs --to DIR, the directory to restore into')
      connection()
      const request: RestoreRequest = { snapshot: String(snapshot ?? ''), path: String(path ?? ''), to, overwrite: overwrite === true }
      return startJob('restore', async current => await restore(current, request), request)
    }
  }

  return {
    routes,
    async overview () {
      const config = await readBackupConfig(home)
      const last = await lastRunState()
      const next = config.schedule === undefined || config.paths.length === 0 ? undefined : Math.max(await due(scheduleMs(config.schedule)), Date.now())
      return {
        ...last.lastRun === undefined ? {} : { lastRun: last.lastRun },
        ...last.snapshot === undefined ? {} : { lastSnapshot: last.snapshot },
        ...next === undefined ? {} : { nextRun: new Date(next).toISOString() },
        ...job === undefined ? {} : { job }
      }
    },
    start () { schedule(1000) },
    async stop () {
      stopped = true
      clearTimeout(timer)
      controller.abort(new Error('the agent is stopping'))
    }
  }
}
