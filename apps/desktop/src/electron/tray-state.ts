import type { UiStatus } from '../node/ui/ui-api.ts'

/**
 * The tray's state from the agent's status: one word a person can act on. Pure, so the
 * whole mapping is unit-tested; the icon (tray-icons.ts) shows it by shape, the tooltip in words.
 *
 * - offline: the agent is not running, or no member of any shared folder is connected
 * - error: a folder cannot sync, or this device was revoked
 * - paused: a folder waits for the person (the safety brake: many files seem gone), or was
 *   paused by them
 * - syncing: scanning, pulling, or behind a connected member
 * - in-sync: everything else
 */
export type TrayState = 'in-sync' | 'syncing' | 'paused' | 'error' | 'offline'

export interface TrayView {
  state: TrayState
  tooltip: string
}

export function trayState (status: UiStatus | undefined): TrayView {
  if (status === undefined) return { state: 'offline', tooltip: 'Aerie: the agent is not running (it restarts by itself)' }
  if (status.revoked) return { state: 'error', tooltip: 'Aerie: this device has been revoked by the organisation' }
  const broken = status.folders.filter(f => f.state === 'error')
  if (broken.length > 0) return { state: 'error', tooltip: `Aerie: ${names(broken)} cannot sync${broken[0]!.error !== undefined ? `: ${broken[0]!.error}` : ''}` }
  const waiting = status.folders.filter(f => f.state === 'needs-confirmation')
  if (waiting.length > 0) return { state: 'paused', tooltip: `Aerie: ${names(waiting)} paused, waiting for you to confirm deletions` }
  const paused = status.folders.filter(f => f.state === 'paused')
  if (paused.length > 0 && paused.length === status.folders.length) return { state: 'paused', tooltip: `Aerie: ${names(paused)} paused (resume in the window)` }
  const shared = status.folders.filter(f => f.members.some(m => m.deviceId !== status.deviceId))
  const online = new Set(status.peers.filter(p => p.connected).map(p => p.deviceId))
  if (shared.length > 0 && !shared.some(f => f.members.some(m => online.has(m.deviceId)))) {
    return { state: 'offline', tooltip: 'Aerie: no other device of your folders is reachable' }
  }
  const busy = status.folders.filter(f => f.state === 'syncing' || f.state === 'scanning' || (!f.inSync && f.needFiles > 0))
  if (busy.length > 0) {
    const left = busy.reduce((sum, f) => sum + f.needFiles, 0)
    return { state: 'syncing', tooltip: `Aerie: syncing ${names(busy)}${left > 0 ? `, ${left} ${left === 1 ? 'item' : 'items'} to go` : ''}` }
  }
  const conflicts = status.folders.reduce((sum, f) => sum + f.conflicts, 0)
  const count = status.folders.length
  return {
    state: 'in-sync',
    tooltip: `Aerie: ${count === 0 ? 'no folders yet' : `up to date (${count} ${count === 1 ? 'folder' : 'folders'})`}${conflicts > 0 ? `, ${conflicts} ${conflicts === 1 ? 'conflict' : 'conflicts'} to resolve` : ''}`
  }
}

function names (folders: Array<{ label: string }>): string {
  return folders.length === 1 ? `"${folders[0]!.label}"` : `${folders.length} folders`
}
