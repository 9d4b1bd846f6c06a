import { InvalidInputError } from '@aerie/core'
import { TransferRates } from '../../common/transfer-rate.ts'
import { createBackupUiRoutes } from './backup-api.ts'
import { userPath } from './user-path.ts'
import type { SyncFolderStatus } from '@aerie/core'
import type { AgentStatus } from '../agent.ts'
import type { BackupAgent } from '../backup/backup-agent.ts'
import type { DeviceHome } from '../device-home.ts'
import type { LogRing } from '../log-ring.ts'
import type { ControlRoutes } from '../control-server.ts'
import type { FolderOperations } from '../folder-operations.ts'
import type { TransferEstimate } from '../../common/transfer-rate.ts'
import type { UiRoutes } from './ui-server.ts'

/**
 * The UI's JSON API over the agent: its status enriched for people (rate, time left, last
 * in sync, conflicts), and the folder operations. Where the control API already has an
 * operation (share, rescan, confirm), the UI calls the same handler.
 */
export interface UiFolderStatus extends SyncFolderStatus {
  transfer?: TransferEstimate
  /** When the folder was last seen in sync by this agent (ISO); now, while it is. */
  lastInSync?: string
  conflicts: number
}

export interface UiStatus extends Omit<AgentStatus, 'folders'> {
  folders: UiFolderStatus[]
}

export type SyncEventKind = 'progress' | 'pulled' | 'state' | 'peer'

export interface UiApiInit {
  status(): AgentStatus
  logs: LogRing
  folders: FolderOperations
  home: DeviceHome
  backup?: BackupAgent
  /** The control API's handlers, for the operations both APIs offer. */
  control: ControlRoutes
  /** Registers for the agent's changes; returns how to stop. */
  onEvent(listener: (kind: SyncEventKind, detail?: { folder: string, doneBytes: number }) => void): () => void
  now?(): number
}

export interface UiApi {
  routes: UiRoutes
  status(): Promise<UiStatus>
  subscribe(onChange: () => void): () => void
  close(): void
}

/**
 * Control routes the UI reaches under /api/v1 with the same body: one handler for both APIs.
 * Share links go to the team server as `aerie share` does (`{ request }`, a DeviceShareRequest).
 */
const SHARED = ['POST /v1/settings', 'POST /v1/folders/share', 'POST /v1/folders/rescan', 'POST /v1/folders/confirm', 'POST /v1/shares']

export function createUiApi (init: UiApiInit): UiApi {
  const now = init.now ?? Date.now
  const rates = new TransferRates()
  const lastInSync = new Map<string, number>()
  const stopRates = init.onEvent((kind, detail) => {
    if (kind === 'progress' && detail !== undefined) rates.record(detail.folder, detail.doneBytes, now())
    if (kind === 'pulled' && detail !== undefined) rates.forget(detail.folder)
  })

  async function status (): Promise<UiStatus> {
    const s = init.status()
    const at = now()
    return {
      ...s,
      folders: s.folders.map(folder => {
        if (folder.inSync) lastInSync.set(folder.id, at)
        const seen = lastInSync.get(folder.id)
        const transfer = folder.pull === undefined ? undefined : rates.estimate(folder.id, folder.pull.needBytes, at)
        return {
          ...folder,
          ...transfer === undefined ? {} : { transfer },
          ...seen === undefined ? {} : { lastInSync: new Date(seen).toISOString() },
          conflicts: init.folders.conflicts(folder.id).length
        }
      })
    }
  }

  const routes: UiRoutes = {
    'GET /api/v1/status': status,
    // The UI polls with the last seq it has, so each answer carries only the new lines.
    'GET /api/v1/logs': async ({ query }) => ({ lines: init.logs.after(Number(query.get('after') ?? 0) || 0) }),
    'GET /api/v1/folders/files': async ({ query }) => ({ entries: init.folders.files(need(query.get('folder')), query.get('dir') ?? '') }),
    'GET /api/v1/folders/conflicts': async ({ query }) => ({ conflicts: init.folders.conflicts(need(query.get('folder'))) }),
    'POST /api/v1/folders/conflicts/resolve': async ({ body }) => {
      const { folder, path, keep } = fields(body, 'folder', 'path', 'keep')
      if (keep !== 'copy' && keep !== 'original' && keep !== 'both') throw new InvalidInputError('keep is "copy", "original" or "both"')
      return await init.folders.resolveConflict(folder, path, keep)
    },
    'GET /api/v1/folders/versions': async ({ query }) => await init.folders.versions(need(query.get('folder')), query.get('path') ?? ''),
    'POST /api/v1/folders/versions/restore': async ({ body }) => {
      const { folder, path, at } = fields(body, 'folder', 'path', 'at')
      const when = new Date(at)
      if (Number.isNaN(when.getTime())) throw new InvalidInputError('a restore needs the time as an ISO date-time')
      return await init.folders.restore(folder, path, when)
    },
    'POST /api/v1/folders/add': async ({ body }) => {
      const { path, id, label } = (body ?? {}) as { path?: unknown, id?: unknown, label?: unknown }
      return await init.folders.add({ path: userPath(path), id: optional(id), label: optional(label) })
    },
    'POST /api/v1/folders/remove': async ({ body }) => await init.folders.remove(fields(body, 'id').id),
    'GET /api/v1/folders/open': async ({ query }) => await init.folders.open(need(query.get('folder')), query.get('path') ?? ''),
    'POST /api/v1/folders/pause': async ({ body }) => await init.folders.setPaused(fields(body, 'id').id, true),
    'POST /api/v1/folders/resume': async ({ body }) => await init.folders.setPaused(fields(body, 'id').id, false)
  }
  if (init.backup !== undefined) Object.assign(routes, createBackupUiRoutes({ home: init.home, backup: init.backup, control: init.control, now }))
  for (const name of SHARED) {
    const handler = init.control[name]
    if (handler !== undefined) routes[name.replace(' /v1/', ' /api/v1/')] = async ({ body }) => await handler(body)
  }

  return {
    routes,
    status,
    subscribe: (onChange) => init.onEvent(() => { onChange() }),
    close: stopRates
  }
}

function need (value: string | null): string {
  if (value === null || value === '') throw new InvalidInputError('which folder? (?folder=ID)')
  return value
}

function optional (value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

function fields<K extends string> (body: unknown, ...names: K[]): Record<K, string> {
  const object = (body ?? {}) as Record<string, unknown>
  const out = {} as Record<K, string>
  for (const name of names) {
    if (typeof object[name] !== 'string') throw new InvalidInputError(`the request needs "${name}"`)
    out[name] = object[name] as string
  }
  return out
}
