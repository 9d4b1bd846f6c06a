import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { InvalidInputError, NotConfiguredError, parseDuration, parseRate } from '@aerie/core'

/**
 * The team server's configuration: built-in defaults, then a JSON file (`--config FILE`, or
 * `server.json` in the data directory), then environment variables, then command-line flags.
 * Everything is checked at start, and a bad value stops the server with a message naming it.
 */
export interface ServerConfig {
  /** Where everything lives: CA, keys, store, databases. */
  dataDir: string
  /** The organisation's name, for the CA made on first run. */
  org: string
  host: string
  port: number
  /** Plain HTTP instead of HTTPS: allowed only on 127.0.0.1 (e.g. behind a local proxy, or tests). */
  http: boolean
  /** The libp2p peer's listen addresses (agents sync and enroll there). */
  p2pListen: string[]
  mdns: boolean
  /** Honour X-Forwarded-For/-Proto from a reverse proxy. */
  trustProxy: boolean
  /** A given certificate and key (PEM files) instead of one issued by the org CA. */
  tlsCert?: string
  tlsKey?: string
  /** Host names and addresses the CA-issued web certificate is made for (besides localhost). */
  names: string[]
  /** The data key is never stored unwrapped: the server serves nothing until an admin unlocks it. */
  locked: boolean
  /** The URL users reach the console at (for the setup link); default https://HOST:PORT. */
  publicUrl?: string
  /**
   * How long a chunk stored, confirmed present or read stays safe from garbage collection (and
   * how long the server must have run before a collection sweeps anything): longer than any
   * backup or pull takes. In milliseconds (written 24h, 30m, 90s); default 24 h.
   */
  gcGrace: number
  /**
   * How fast the daily scrub reads the store back, in bytes per second (written 64M, 1G, off):
   * slow enough to leave most of the disk to backups and restores. 0: no limit. A scrub asked
   * for now (console, API, `aerie-server scrub --now`) runs at full speed, and so does a paced
   * one that such an ask joins. Default 64 MiB/s (a 1 TiB store in about 4.5 hours).
   */
  scrubRate: number
}

export const DEFAULT_PORT = 8443
export const DEFAULT_P2P_LISTEN = '/ip4/0.0.0.0/tcp/4401'
const DEFAULT_GC_GRACE_MS = 24 * 3_600_000
const DEFAULT_SCRUB_RATE = 64 * 1024 ** 2

/** Each setting: its file key, environment variable and flag, and how to read it. */
const SETTINGS = {
  dataDir: { env: 'AERIE_DATA', flag: 'data', read: text },
  org: { env: 'AERIE_ORG', flag: 'org', read: text },
  host: { env: 'AERIE_HOST', flag: 'host', read: text },
  port: { env: 'AERIE_PORT', flag: 'port', read: port },
  http: { env: 'AERIE_HTTP', flag: 'http', read: bool },
  p2pListen: { env: 'AERIE_P2P_LISTEN', flag: 'p2p-listen', read: list },
  mdns: { env: 'AERIE_MDNS', flag: 'mdns', read: bool },
  trustProxy: { env: 'AERIE_TRUST_PROXY', flag: 'trust-proxy', read: bool },
  tlsCert: { env: 'AERIE_TLS_CERT', flag: 'tls-cert', read: text },
  tlsKey: { env: 'AERIE_TLS_KEY', flag: 'tls-key', read: text },
  names: { env: 'AERIE_NAMES', flag: 'name', read: list },
  locked: { env: 'AERIE_LOCKED', flag: 'locked', read: bool },
  publicUrl: { env: 'AERIE_PUBLIC_URL', flag: 'public-url', read: url },
  gcGrace: { env: 'AERIE_GC_GRACE', flag: 'gc-grace', read: duration },
  scrubRate: { env: 'AERIE_SCRUB_RATE', flag: 'scrub-rate', read: rate }
} as const

type Key = keyof typeof SETTINGS

export type ConfigFlags = Partial<Record<string, string | boolean | string[]>>

/** Flags as `parseArgs` options, so the CLI accepts exactly what the config knows. */
export const CONFIG_FLAGS = Object.fromEntries(Object.values(SETTINGS).map(s => [s.flag,
  s.read === bool ? { type: 'boolean' as const } : s.read === list ? { type: 'string' as const, multiple: true } : { type: 'string' as const }]))

export function loadConfig (flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, configFile?: string): ServerConfig {
  const values: Partial<Record<Key, unknown>> = {}
  const dataDir = resolve(String(flags.data ?? env.AERIE_DATA ?? join(homedir(), '.aerie-server')))
  const file = configFile ?? join(dataDir, 'server.json')
  for (const [key, raw] of Object.entries(readConfigFile(file, configFile !== undefined))) {
    if (!(key in SETTINGS)) throw new NotConfiguredError(`${file}: unknown setting "${key}"; known: ${Object.keys(SETTINGS).join(', ')}`)
    values[key as Key] = SETTINGS[key as Key].read(raw, `${file}: "${key}"`)
  }
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const fromEnv = env[setting.env]
    if (fromEnv !== undefined && fromEnv !== '') values[key as Key] = setting.read(fromEnv, `environment variable ${setting.env}`)
    const fromFlag = flags[setting.flag]
    if (fromFlag !== undefined) values[key as Key] = setting.read(fromFlag, `--${setting.flag}`)
  }
  const config: ServerConfig = {
    dataDir: resolve((values.dataDir as string | undefined) ?? dataDir),
    org: (values.org as string | undefined) ?? 'My organisation',
    host: (values.host as string | undefined) ?? '0.0.0.0',
    port: (values.port as number | undefined) ?? DEFAULT_PORT,
    http: (values.http as boolean | undefined) ?? false,
    p2pListen: (values.p2pListen as string[] | undefined) ?? [DEFAULT_P2P_LISTEN],
    mdns: (values.mdns as boolean | undefined) ?? true,
    trustProxy: (values.trustProxy as boolean | undefined) ?? false,
    names: (values.names as string[] | undefined) ?? [],
    locked: (values.locked as boolean | undefined) ?? false,
    gcGrace: (values.gcGrace as number | undefined) ?? DEFAULT_GC_GRACE_MS,
    scrubRate: (values.scrubRate as number | undefined) ?? DEFAULT_SCRUB_RATE
  }
  for (const key of ['tlsCert', 'tlsKey', 'publicUrl'] as const) {
    if (values[key] !== undefined) config[key] = values[key] as string
  }
  if (config.http && config.host !== '127.0.0.1') {
    throw new InvalidInputError(`plain HTTP is allowed only on 127.0.0.1 (host is ${config.host}): drop --http, or bind to 127.0.0.1 behind a proxy that terminates TLS`)
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new InvalidInputError('a given certificate needs its key too: set both tlsCert and tlsKey (--tls-cert, --tls-key)')
  }
  if (config.gcGrace < 1000) throw new InvalidInputError('gcGrace must be at least 1s: a chunk a backup or pull stored a moment ago must not be collected before it is recorded (the default, 24h, is right for most)')
  if (config.org.trim() === '') throw new InvalidInputError('the organisation name (org) is empty')
  return config
}

function readConfigFile (file: string, required: boolean): Record<string, unknown> {
  let body: string
  try {
    body = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {}
    throw new NotConfiguredError(`cannot read the configuration file ${file}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (err) {
    throw new NotConfiguredError(`${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new NotConfiguredError(`${file} must hold a JSON object of settings`)
  return parsed as Record<string, unknown>
}

function text (value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`${where} must be a non-empty string`)
  return value.trim()
}

function port (value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : NaN
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidInputError(`${where} must be a port number from 0 to 65535 (got ${JSON.stringify(value)})`)
  return n
}

function bool (value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value
  const s = String(value).toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(s)) return true
  if (['0', 'false', 'no', 'off'].includes(s)) return false
  throw new InvalidInputError(`${where} must be true or false (got ${JSON.stringify(value)})`)
}

function list (value: unknown, where: string): string[] {
  const items = Array.isArray(value) ? value : String(value).split(',')
  const out = items.map(item => text(item, where))
  if (out.length === 0) throw new InvalidInputError(`${where} must list at least one value`)
  return out
}

function duration (value: unknown, where: string): number {
  try {
    return parseDuration(text(value, where))
  } catch (err) {
    throw new InvalidInputError(`${where}: ${(err as Error).message}`)
  }
}

/** Bytes per second: a number (in the settings file), or as people write it (64M, 1G, off). */
function rate (value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  try {
    return parseRate(text(value, where))
  } catch (err) {
    throw new InvalidInputError(`${where}: ${(err as Error).message}`)
  }
}

function url (value: unknown, where: string): string {
  const s = text(value, where)
  let parsed: URL
  try {
    parsed = new URL(s)
  } catch {
    throw new InvalidInputError(`${where} must be a URL such as https://aerie.example.org (got ${JSON.stringify(s)})`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new InvalidInputError(`${where} must be an http(s) URL`)
  return s.replace(/\/+$/, '')
}
