import { chmod, mkdir, readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { NotConfiguredError, writeFileAtomic } from '@aerie/core/basics'
import { MAX_MIN_DISK_FREE } from './device-settings.ts'

/**
 * A device's state directory (`--home`, `AERIE_HOME`, default ~/.aerie). Everything the
 * device knows lives here, so several agents can share one machine.
 *
 *   device-key.pem   the device's private key (0600): its libp2p identity and cert key
 *   device.crt       its certificate, ca.crt the organisation's CA, crl.der the newest CRL
 *   config.json      name, listen addresses, static peers, mDNS, folders, backup set
 *   index.db         the folder index (node:sqlite)
 *   agent.json       while `aerie run` is up: its control URL and secret (0600)
 *   ca/              only on the CA holder: ca-key.pem (encrypted), ca.db
 */
export interface StaticPeer {
  /** Filled in after the first successful connection, or given by `peer add`. */
  deviceId?: string
  address: string
}

/** A folder this device syncs. */
export interface FolderConfig {
  id: string
  path: string
  label: string
  /** Not scanned, watched or pulled until resumed (`aerie folder pause|resume`). */
  paused?: boolean
  /** Its version history's retention (`aerie folder retention`); the default for what is not given. */
  versions?: { keepVersions?: number, maxAgeDays?: number }
}

/** Endpoint backup to the team server (`aerie backup …`). */
export interface BackupConfig {
  /** Absolute paths to back up. */
  paths: string[]
  /** gitignore-style patterns, below each path. */
  excludes: string[]
  /** How often the agent backs up (e.g. 1h); none: only `aerie backup run`. */
  schedule?: string
}

export interface DeviceConfig {
  deviceName: string
  listen: string[]
  peers: StaticPeer[]
  mdns: boolean
  folders: FolderConfig[]
  backup?: BackupConfig
  /** LAN-only mode, chunk bandwidth limits (bytes/s) and the share of a disk a pull keeps free (%): see device-settings.ts. */
  lanOnly?: boolean
  uploadLimit?: number
  downloadLimit?: number
  minDiskFree?: number
}

export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4001'

export function resolveHome (flag?: string): string {
  return resolve(flag ?? process.env.AERIE_HOME ?? join(homedir(), '.aerie'))
}

export class DeviceHome {
  readonly dir: string

  constructor (dir: string) {
    this.dir = dir
  }

  path (...parts: string[]): string { return join(this.dir, ...parts) }

  async ensure (): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await chmod(this.dir, 0o700)
  }

  async exists (name: string): Promise<boolean> {
    return await stat(this.path(name)).then(() => true, () => false)
  }

  async read (name: string): Promise<string> {
    try {
      return await readFile(this.path(name), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotConfiguredError(`${this.path(name)} is missing: this device is not set up in ${this.dir} (run \`aerie ca init\` or \`aerie enroll CODE\`, or pass the right --home)`)
      throw err
    }
  }

  async readBytes (name: string): Promise<Uint8Array | undefined> {
    return await readFile(this.path(name)).then(b => new Uint8Array(b), () => undefined)
  }

  async write (name: string, data: string | Uint8Array, secret = false): Promise<void> {
    await writeFileAtomic(this.path(name), data, { mode: secret ? 0o600 : 0o644 })
  }

  async readConfig (): Promise<DeviceConfig> {
    const text = await this.read('config.json')
    try {
      const config = JSON.parse(text) as Partial<DeviceConfig>
      return {
        deviceName: String(config.deviceName ?? 'device'),
        listen: Array.isArray(config.listen) ? config.listen.map(String) : [DEFAULT_LISTEN],
        peers: Array.isArray(config.peers) ? config.peers : [],
        mdns: config.mdns !== false,
        folders: Array.isArray(config.folders) ? config.folders : [],
        ...(config.backup === undefined ? {} : { backup: config.backup }),
        ...(config.lanOnly === true ? { lanOnly: true } : {}),
        ...(typeof config.uploadLimit === 'number' && config.uploadLimit > 0 ? { uploadLimit: config.uploadLimit } : {}),
        ...(typeof config.downloadLimit === 'number' && config.downloadLimit > 0 ? { downloadLimit: config.downloadLimit } : {}),
        ...(typeof config.minDiskFree === 'number' && config.minDiskFree >= 0 && config.minDiskFree <= MAX_MIN_DISK_FREE ? { minDiskFree: config.minDiskFree } : {})
      }
    } catch {
      throw new NotConfiguredError(`${this.path('config.json')} is not valid JSON; fix or remove it`)
    }
  }

  async writeConfig (config: DeviceConfig): Promise<void> {
    await this.write('config.json', JSON.stringify(config, null, 2) + '\n')
  }

  async isEnrolled (): Promise<boolean> {
    return await this.exists('device.crt')
  }

  async isCaHolder (): Promise<boolean> {
    return await this.exists('ca/ca-key.pem')
  }
}
