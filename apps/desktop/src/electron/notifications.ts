import { formatBytes } from '@aerie/core/basics'
import type { BackupJob } from '../node/backup/backup-agent.ts'
import type { UiStatus } from '../node/ui/ui-api.ts'

/**
 * What is worth a desktop notification between two statuses: new conflicts, a folder that
 * starts failing or waits for the person, this device being revoked, a restore that ended and
 * a backup that failed. Said once, when it begins, never again on every poll. Pure, for tests.
 */
export interface Notice {
  title: string
  body: string
}

export function noticesBetween (before: UiStatus | undefined, after: UiStatus): Notice[] {
  const notices: Notice[] = []
  if (after.revoked && before?.revoked !== true) {
    notices.push({ title: 'This device was revoked', body: 'Your organisation revoked this device: it no longer syncs. Ask your administrator to enroll it again.' })
  }
  for (const folder of after.folders) {
    const was = before?.folders.find(f => f.id === folder.id)
    if (folder.conflicts > (was?.conflicts ?? 0)) {
      const n = folder.conflicts - (was?.conflicts ?? 0)
      notices.push({ title: `${n === 1 ? 'A conflict' : `${n} conflicts`} in "${folder.label}"`, body: 'Two devices changed the same file. Both versions are kept: open Aerie to choose.' })
    }
    if (folder.state === 'error' && was?.state !== 'error') {
      notices.push({ title: `"${folder.label}" cannot sync`, body: folder.error ?? 'Open Aerie to see why.' })
    }
    if (folder.state === 'needs-confirmation' && was?.state !== 'needs-confirmation') {
      notices.push({ title: `"${folder.label}" is waiting for you`, body: 'Many files seem to be gone. Open Aerie to confirm the deletions or restore the files.' })
    }
  }
  return notices
}

/** What the shell remembers of the agent's backup job between polls. */
export interface JobsSeen {
  /** The job at the last poll, as it was then. */
  job?: { id: number, state: BackupJob['state'] }
  /** The last failed backup's reason: a backup that fails again the same way is not said again. */
  backupFailure?: string
}

/** How many files that were not restored a notification names (the Backup screen lists them all). */
const FAILED_SHOWN = 3

/**
 * A job that has ended since the last poll: a restore, however it ended (but one that found
 * files in the way and wrote nothing: whoever started it is asked, on the screen or in the
 * terminal), and a backup that failed. A backup that worked says nothing: it is the normal
 * case, every few minutes on a schedule.
 */
export function jobNotices (seen: JobsSeen, job: BackupJob | undefined): { notices: Notice[], seen: JobsSeen } {
  const notices: Notice[] = []
  let backupFailure = seen.backupFailure
  const ended = job !== undefined && job.state !== 'running' && (seen.job?.id !== job.id || seen.job.state === 'running')
  if (ended && job.kind === 'restore') {
    const notice = restoreNotice(job)
    if (notice !== undefined) notices.push(notice)
  } else if (ended && job.state === 'failed') {
    const reason = job.error?.message ?? 'no reason given'
    if (reason !== backupFailure) notices.push({ title: 'Backup failed', body: reason })
    backupFailure = reason
  } else if (ended) {
    backupFailure = undefined
  }
  return { notices, seen: { ...job === undefined ? {} : { job: { id: job.id, state: job.state } }, ...backupFailure === undefined ? {} : { backupFailure } } }
}

function restoreNotice (job: BackupJob): Notice | undefined {
  const into = job.restore === undefined ? '' : ` into ${job.restore.to}`
  if (job.state === 'done') {
    const result = job.result as { files: number, bytes: number, snapshot?: { id: string } }
    const snapshot = result.snapshot?.id ?? job.restore?.snapshot
    const what = job.restore === undefined || job.restore.path === '' || job.restore.path === '/' ? `snapshot ${snapshot}` : `${job.restore.path} (snapshot ${snapshot})`
    return { title: 'Restore finished', body: `${result.files} ${result.files === 1 ? 'file' : 'files'} (${formatBytes(result.bytes)}) of ${what} restored${into}.` }
  }
  if (job.error?.code === 'ERR_RESTORE_EXISTS') return undefined
  const failed = (job.result as { failed?: Array<{ path: string, reason: string }> } | undefined)?.failed ?? []
  if (failed.length === 0) return { title: 'Restore failed', body: `${job.error?.message ?? 'no reason given'}${into === '' ? '' : ` (restoring${into})`}` }
  const named = failed.slice(0, FAILED_SHOWN).map(f => `${f.path}: ${f.reason}`)
  if (failed.length > FAILED_SHOWN) named.push(`and ${failed.length - FAILED_SHOWN} more (the Backup screen lists them)`)
  return {
    title: `Restore incomplete: ${failed.length} ${failed.length === 1 ? 'file was' : 'files were'} not restored`,
    body: `${named.join('\n')}\nThe rest were restored${into}.`
  }
}
