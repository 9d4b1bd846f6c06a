import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { AerieError, formatBytes } from '@aerie/core/basics'
import { addBackupExclude, addBackupPath, readBackupConfig, removeBackupPath, setBackupSchedule } from '../backup/backup-config.ts'
import { callAgent, tryCallAgent } from '../control-client.ts'
import { parse } from './args.ts'
import { formatTime, progressLine } from './progress-line.ts'
import type { SnapshotSummary } from '@aerie/core'
import type { BackupJob } from '../backup/backup-agent.ts'
import type { BackupConfig } from '../device-home.ts'
import type { CommandContext } from './main.ts'

/**
 * `aerie backup …` and `aerie restore …`: the backup set lives in config.json (changed here,
 * with or without a running agent); runs, browsing and restores go through the running agent,
 * which holds the connection to the team server.
 */

interface BrowsedEntry { name: string, type: string, mode: number, mtimeMs: number, size: number, target?: string, changed?: boolean }

const POLL_MS = 200

export async function backupAdd ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'PATH (a directory or file to back up)' })
  const config = await addBackupPath(home, positionals[0]!)
  out(`backing up ${config.paths.join(', ')}${config.schedule === undefined ? ' (no schedule: `aerie backup schedule 1h` sets one, `aerie backup run` runs one now)' : ` every ${config.schedule}`}`)
  await reload(home)
}

export async function backupRemove ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'PATH (one in `aerie backup show`)' })
  const config = await removeBackupPath(home, positionals[0]!)
  out(`no longer backing up ${resolve(positionals[0]!)}; snapshots already made keep it`)
  describe(config, out)
}

export async function backupExclude ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'GLOB (a gitignore pattern such as *.tmp or node_modules/)' })
  const config = await addBackupExclude(home, positionals[0]!)
  out(`excluding ${config.excludes.join(', ')}`)
}

export async function backupSchedule ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'EVERY (such as 30m, 1h, 1d, or off)' })
  const config = await setBackupSchedule(home, positionals[0]!)
  out(config.schedule === undefined ? 'scheduled backups are off (`aerie backup run` still runs one)' : `the agent backs up every ${config.schedule}`)
  await reload(home)
}

export async function backupShow ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const config = await readBackupConfig(home)
  if (values.json === true) { out(JSON.stringify(config)); return }
  describe(config, out)
}

/** `aerie backup run [--json]`: a backup now, through the running agent, with a progress line. */
export async function backupRun ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const job = await follow(home, await callAgent<BackupJob>(home, 'POST', '/v1/backup/run'), 'backup')
  const result = job.result as { snapshot: SnapshotSummary, counters: Record<string, number>, problems: Array<{ path: string, reason: string }> }
  if (values.json === true) { out(JSON.stringify(result)); return }
  for (const p of result.problems.slice(0, 20)) out(`  ${p.path}: ${p.reason}`)
  const c = result.counters
  out(`snapshot ${result.snapshot.id}: ${c.files} files, ${formatBytes(c.bytes ?? 0)}; sent ${formatBytes(c.sentBytes ?? 0)} the server did not have` +
    `${(c.unchanged ?? 0) > 0 ? `, ${c.unchanged} unchanged files not read again` : ''}${(c.changed ?? 0) > 0 ? `, ${c.changed} changed while read (marked)` : ''}` +
    `${(c.skipped ?? 0) > 0 ? `, ${c.skipped} skipped` : ''}`)
}

/** `aerie restore list [--json]`: this device's snapshots, oldest first. */
export async function restoreList ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const { snapshots } = await callAgent<{ snapshots: SnapshotSummary[] }>(home, 'POST', '/v1/restore/list')
  if (values.json === true) { out(JSON.stringify(snapshots)); return }
  if (snapshots.length === 0) { out('this device has no snapshots yet: `aerie backup run` makes one'); return }
  for (const s of snapshots) out(`${s.id}  ${formatTime(new Date(s.startedAt))}  ${String(s.counters.files ?? 0).padStart(7)} files  ${formatBytes(s.counters.bytes ?? 0).padStart(10)}  ${s.paths.join(', ')}`)
}

/** `aerie restore browse SNAPSHOT [PATH] [--json]`: a directory of a snapshot (paths are as they were on disk). */
export async function restoreBrowse ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 2, names: 'SNAPSHOT (an id from `aerie restore list`, or latest) and a PATH in it' })
  const answer = await callAgent<{ snapshot: SnapshotSummary, entries: BrowsedEntry[] }>(home, 'POST', '/v1/restore/browse', { snapshot: positionals[0], path: positionals[1] ?? '' })
  if (values.json === true) { out(JSON.stringify(answer)); return }
  for (const e of answer.entries) {
    const kind = e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-'
    out(`${kind}${e.mode.toString(8).padStart(4, '0')}  ${formatTime(new Date(e.mtimeMs))}  ${(e.type === 'file' ? formatBytes(e.size) : '').padStart(10)}  ${e.name}${e.type === 'dir' ? '/' : ''}${e.target !== undefined ? ` -> ${e.target}` : ''}${e.changed === true ? '  (changed while backed up)' : ''}`)
  }
}

/** `aerie restore SNAPSHOT [PATH] --to DIR [--overwrite] [--json]` */
export async function restore ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { to: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' } },
    { min: 1, max: 2, names: 'SNAPSHOT (an id from `aerie restore list`, or latest), a PATH in it, and --to DIR' })
  if (typeof values.to !== 'string') throw new AerieError('ERR_USAGE', 'say where to restore to: --to DIR (restoring never writes over the original place unless you give it)')
  const to = resolve(values.to)
  const started = await callAgent<BackupJob>(home, 'POST', '/v1/restore/start', { snapshot: positionals[0], path: positionals[1] ?? '', to, overwrite: values.overwrite === true })
  const job = await follow(home, started, 'restore')
  const result = job.result as { files: number, dirs: number, symlinks: number, bytes: number, snapshot: SnapshotSummary }
  if (values.json === true) { out(JSON.stringify(result)); return }
  out(`restored ${result.files} files (${formatBytes(result.bytes)}), ${result.dirs} directories and ${result.symlinks} symlinks of snapshot ${result.snapshot.id} into ${to}`)
}

/** Polls the agent's job, drawing its progress, until it ends; a failed job is thrown. */
async function follow (home: CommandContext['home'], started: BackupJob, what: string): Promise<BackupJob> {
  const line = progressLine(process.stderr)
  let job = started
  try {
    while (job.state === 'running') {
      const p = job.progress
      line.show({ folder: what, doneFiles: p.files, needFiles: Math.max(p.needFiles, p.files + 1), doneBytes: p.bytes, needBytes: p.needBytes, localBytes: 0, networkBytes: p.sentBytes ?? 0 })
      // The agent answers as soon as the job ends, or with its progress after POLL_MS.
      const asked = Date.now()
      job = await callAgent<BackupJob>(home, 'POST', '/v1/backup/job', { id: job.id, waitMs: POLL_MS })
      // An agent from before waitMs answers at once: no busy loop.
      if (job.state === 'running') await sleep(Math.max(0, POLL_MS - (Date.now() - asked)))
    }
  } finally {
    line.clear()
  }
  if (job.state === 'failed') {
    const failed = (job.result as { failed?: Array<{ path: string, reason: string }> } | undefined)?.failed
    throw new AerieError(job.error?.code ?? 'ERR_INTERNAL', failed === undefined ? job.error?.message ?? `the ${what} failed` : job.error!.message)
  }
  return job
}

function describe (config: BackupConfig, out: (line: string) => void): void {
  out(`paths:    ${config.paths.length === 0 ? '(none: `aerie backup add PATH`)' : config.paths.join(', ')}`)
  out(`excludes: ${config.excludes.length === 0 ? '(none)' : config.excludes.join(', ')}`)
  out(`schedule: ${config.schedule ?? 'off (only `aerie backup run`)'}`)
}

/** Tells a running agent to read its schedule again (nothing to do when none runs). */
async function reload (home: CommandContext['home']): Promise<void> {
  await tryCallAgent(home, 'POST', '/v1/backup/reload')
}
