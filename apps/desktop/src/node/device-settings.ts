import { InvalidInputError } from '@aerie/core/basics'
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
}

export function settingsOf (config: DeviceConfig): DeviceSettings {
  return { deviceName: config.deviceName, lanOnly: config.lanOnly === true, uploadLimit: config.uploadLimit ?? 0, downloadLimit: config.downloadLimit ?? 0 }
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
  return next
}
