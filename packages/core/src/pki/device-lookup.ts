import { InvalidInputError } from '../errors.ts'

/** The shortest device id prefix accepted: shorter ones match too much to be meant. */
const MIN_PREFIX = 4

interface NamedDevice { deviceId: string, deviceName: string, user: string }

/**
 * The one device a user means by `query`: its exact id, a unique id prefix (4+ characters) or
 * a unique device name. Several matches are an error that lists them; none is undefined.
 * One rule for every command that names a device (`revoke`, `folder share`, …).
 */
export function findDevice<T extends NamedDevice> (devices: readonly T[], query: string): T | undefined {
  const wanted = query.trim()
  const id = wanted.toLowerCase()
  const exact = devices.find(device => device.deviceId === id)
  if (exact !== undefined) return exact
  if (id.length >= MIN_PREFIX) {
    const found = pickOne(devices.filter(device => device.deviceId.startsWith(id)), `several device ids start with "${wanted}"`, 'give more of the device id')
    if (found !== undefined) return found
  }
  return pickOne(devices.filter(device => device.deviceName === wanted), `several devices are named "${wanted}"`, 'use the device id instead')
}

function pickOne<T extends NamedDevice> (matches: T[], problem: string, fix: string): T | undefined {
  if (matches.length <= 1) return matches[0]
  const list = matches.map(device => `${device.deviceId} ("${device.deviceName}", ${device.user})`).join(', ')
  throw new InvalidInputError(`${problem}: ${list}; ${fix}`)
}
