import { randomBytes } from 'node:crypto'
import type { DeviceHome } from '../device-home.ts'

/**
 * The UI's per-install secret, in the device's home (0600): whoever can read it may use the
 * UI, like whoever can read agent.json may use the control API. It outlives agent restarts
 * (a browser tab logs in again by itself); the port does not, so `aerie ui` asks the agent.
 */
export const UI_SECRET_FILE = 'ui-secret'

export async function ensureUiSecret (home: DeviceHome): Promise<string> {
  const existing = await readUiSecret(home)
  if (existing !== undefined) return existing
  const secret = randomBytes(32).toString('base64url')
  await home.write(UI_SECRET_FILE, secret + '\n', true)
  return secret
}

export async function readUiSecret (home: DeviceHome): Promise<string | undefined> {
  const bytes = await home.readBytes(UI_SECRET_FILE)
  const text = bytes === undefined ? '' : Buffer.from(bytes).toString('utf8').trim()
  return text.length >= 32 ? text : undefined
}

/** The link that opens the UI: the secret rides in the fragment, which browsers never send. */
export function uiLink (url: string, secret: string): string {
  return `${url}/#secret=${secret}`
}
