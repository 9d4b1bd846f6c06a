import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor } from './agents.ts'
import { sameTree, treeDiff } from './trees.ts'
import type { Device, Status } from './agents.ts'

/** What `status --json` says about folders, offers and byte counters. */
export interface SyncStatus extends Status {
  folders: Array<{ id: string, state: string, needFiles: number, needBytes: number, inSync: boolean, role?: string, pullProblems: Array<{ path: string, message: string }> }>
  offers: Array<{ folder: string, role: string }>
  peers: Array<Status['peers'][number] & { bytesIn: number, bytesOut: number }>
}

export async function syncStatus (device: Device): Promise<SyncStatus> {
  return await device.status() as SyncStatus
}

/**
 * The owner adds `ownerDir` as folder `id` and shares it with each member, who accepts the
 * offer into its own directory (created here). Returns each member's directory, in order.
 */
export async function shareFolder (owner: Device, ownerDir: string, id: string, members: Array<{ device: Device, role?: 'editor' | 'viewer' }>): Promise<string[]> {
  await owner.ok('folder', 'add', ownerDir, '--id', id)
  const dirs: string[] = []
  for (const { device, role } of members) {
    const deviceId = (await device.status()).deviceId
    await owner.ok('folder', 'share', id, deviceId, '--role', role ?? 'editor')
    await waitFor(async () => (await syncStatus(device)).offers.some(o => o.folder === id), `the offer of ${id} to reach ${device.home}`)
    const dir = join(device.home, '..', `${id}-${deviceId.slice(0, 6)}`)
    await mkdir(dir, { recursive: true })
    await device.ok('folder', 'add', dir, '--id', id)
    dirs.push(dir)
  }
  return dirs
}

/** Waits until the directories hold the same tree; on timeout the error shows the differences and the agents' logs. */
export async function untilSame (dirs: string[], devices: Device[], timeoutMs = 40_000): Promise<void> {
  const [first, ...rest] = dirs
  await waitFor(async () => {
    for (const dir of rest) if (!await sameTree(first!, dir)) return false
    return true
  }, 'the folders to match', timeoutMs).catch(async (err: Error) => {
    const diffs = await Promise.all(rest.map(async dir => await treeDiff(first!, dir)))
    throw new Error(`${err.message}\n${diffs.join('\n---\n')}\n${devices.map(d => `${d.home}:\n${d.log.slice(-3000)}`).join('\n')}`)
  })
}
