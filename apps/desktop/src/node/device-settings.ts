import { InvalidInputError, KEEP_FREE_SHARE } from '@aerie/core/basics'
import type { DeviceConfig } from './device-home.ts'

/**
 * The settings a person changes on a running agent (Settings screen, `aerie config`): kept in
 * config.json and applied at once, without a restart.
 */
export interface DeviceSettings {
  /** How this agent names itself in its UI and log; the certificate keeps the enrolled name. */
  deviceName: string
  /** No connection to or from a non-local address (a team server on a public address too). */
  lanOnly: boolean
  /** Bytes per second of chunks sent to / fetched from peers, all together; 0: no limit. */
  uploadLimit: number
  downloadLimit: number
  /** The share of each disk (%) a pull keeps free: a file that would take it waits (Syncthing's minDiskFree). */
  minDiskFree: number
}

/** A pull keeps 1% of the disk free unless told otherwise, and never more than half of it. */
export const DEFAULT_MIN_DISK_FREE = KEEP_FREE_SHARE * 100
export const MAX_MIN_DISK_FREE = 50

export function settingsOf (config: DeviceConfig): DeviceSettings {
  return { deviceName: config.deviceName, lanOnly: config.lanOnly === true, uploadLimit: config.uploadLimit ?? 0, downloadLimit: config.downloadLimit ?? 0, minDiskFree: config.minDiskFree ?? DEFAULT_MIN_DISK_FREE }
}

/** The config with the fields of `patch` that are given, each checked. */
export function withSettings (config: DeviceConfig, patch: unknown): DeviceConfig {
  const p = (patch ?? {}) as Record<string, unknown>
  const next = { ...config }
  if (p.deviceName !== undefined) {
    const name = typeof p.deviceName === 'string' ? p.deviceName.trim() : ''
    if (name === '' || name.length > 64) throw new InvalidInputError('a device name is 1 to 64 characters')
    next.deviceName = name
  }
  if (p.lanOnly !== undefined) {
    if (typeof p.lanOnly !== 'boolean') throw new InvalidInputError('lanOnly is true or false')
    next.lanOnly = p.lanOnly
  }
  for (const key of ['uploadLimit', 'downloadLimit'] as const) {
    if (p[key] === undefined) continue
    const value = p[key]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidInputError(`${key} is a whole number of bytes per second (0: no limit)`)
    next[key] = value
  }
  if (p.minDiskFree !== undefined) {
    const value = p.minDiskFree
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_MIN_DISK_FREE) throw new InvalidInputError(`minDiskFree is the share of a disk kept free, in percent: 0 to ${MAX_MIN_DISK_FREE}`)
    next.minDiskFree = value
  }
  return next
}
