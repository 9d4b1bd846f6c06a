import { InvalidInputError, NotConfiguredError } from '@aerie/core'
import { TransferRates } from '../../common/transfer-rate.ts'
import { addBackupExclude, addBackupPath, readBackupConfig, removeBackupExclude, removeBackupPath, setBackupSchedule } from '../backup/backup-config.ts'
import { userPath } from './user-path.ts'
import type { BackupAgent, BackupJob } from '../backup/backup-agent.ts'
import type { ControlRoutes } from '../control-server.ts'
import type { BackupConfig, DeviceHome } from '../device-home.ts'
import type { TransferEstimate } from '../../common/transfer-rate.ts'
import type { UiRoutes } from './ui-server.ts'

/**
 * The backup screen's API: the backup set is changed with the same functions as `aerie backup
 * add|exclude|schedule`; runs, jobs, snapshots and restores go to the agent's own control
 * handlers (the ones the CLI calls), so there is one way to do each.
 */
export interface BackupUiInit {
  home: DeviceHome
  backup: BackupAgent
  control: ControlRoutes
  now(): number
}

export function createBackupUiRoutes ({ home, backup, control, now }: BackupUiInit): UiRoutes {
  const rates = new TransferRates()

  async function call (route: string, body?: unknown): Promise<unknown> {
    const handler = control[route]
    if (handler === undefined) throw new NotConfiguredError('this agent runs without backups')
    return await handler(body)
  }

  /** A job with its rate and time left, measured here as the screen polls it. */
  function withEstimate (job: BackupJob): BackupJob & { transfer?: TransferEstimate } {
    const key = `job-${job.id}`
    if (job.state !== 'running') { rates.forget(key); return job }
    rates.record(key, job.progress.bytes, now())
    const transfer = rates.estimate(key, job.progress.needBytes, now())
    return transfer === undefined ? job : { ...job, transfer }
  }

  async function changed (config: BackupConfig): Promise<BackupConfig> {
    // The running schedule reads config.json again, as after `aerie backup schedule`.
    await call('POST /v1/backup/reload')
    return config
  }

  return {
    'GET /api/v1/backup': async () => {
      const overview = await backup.overview()
      return { config: await readBackupConfig(home), ...overview, ...overview.job === undefined ? {} : { job: withEstimate(overview.job) } }
    },
    'POST /api/v1/backup/paths/add': async ({ body }) => await changed(await addBackupPath(home, userPath(field(body, 'path')))),
    'POST /api/v1/backup/paths/remove': async ({ body }) => await changed(await removeBackupPath(home, field(body, 'path'))),
    'POST /api/v1/backup/excludes/add': async ({ body }) => await changed(await addBackupExclude(home, field(body, 'pattern'))),
    'POST /api/v1/backup/excludes/remove': async ({ body }) => await changed(await removeBackupExclude(home, field(body, 'pattern'))),
    'POST /api/v1/backup/schedule': async ({ body }) => await changed(await setBackupSchedule(home, field(body, 'every').trim())),
    'POST /api/v1/backup/run': async () => withEstimate(await call('POST /v1/backup/run') as BackupJob),
    'GET /api/v1/backup/job': async ({ query }) => withEstimate(await call('POST /v1/backup/job', { id: Number(query.get('id')) }) as BackupJob),
    'GET /api/v1/restore/snapshots': async () => await call('POST /v1/restore/list'),
    'GET /api/v1/restore/browse': async ({ query }) => await call('POST /v1/restore/browse', { snapshot: query.get('snapshot') ?? '', path: query.get('path') ?? '' }),
    'POST /api/v1/restore/start': async ({ body }) => {
      const { snapshot, path, to, overwrite } = (body ?? {}) as Record<string, unknown>
      const job = await call('POST /v1/restore/start', { snapshot, path, to: userPath(to, '/home/ada/restored or ~/restored'), overwrite: overwrite === true }) as BackupJob
      return withEstimate(job)
    }
  }
}

function field (body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name]
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`the request needs "${name}"`)
  return value
}
