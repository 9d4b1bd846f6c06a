import { spawn, execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { onSmallDisk } from './small-disk.ts'
import type { ChildProcess } from 'node:child_process'

/**
 * Real `aerie` processes for end-to-end tests: each device gets its own home directory
 * and its agent listens on a random loopback port. Everything started here is stopped
 * by PID in `stopAll()`.
 */
const BIN = resolve(import.meta.dirname, '../../apps/desktop/bin/aerie.js')
export const PASSPHRASE = 'test passphrase, not a secret'
const run = promisify(execFile)

export interface CliResult { code: number, stdout: string, stderr: string }

export class Device {
  readonly home: string
  agent?: ChildProcess
  log = ''
  /** A network namespace (made by the test) that this device's processes run in. */
  netns?: string
  /**
   * A small disk of its own: a tmpfs of `bytes` at `dir` (made here) that only this device's
   * processes see. The agent starts in a mount namespace of its own (`unshare`, as root) that
   * mounts it; CLI commands join that namespace (`nsenter`), and so does `onDisk`.
   */
  smallDisk?: { dir: string, bytes: number }

  constructor (home: string) {
    this.home = home
  }

  /** Runs one CLI command to completion. */
  async cli (...args: string[]): Promise<CliResult> {
    try {
      const [file, argv] = this.command([BIN, '--home', this.home, ...args])
      const { stdout, stderr } = await run(file, argv, {
        env: { ...process.env, AERIE_CA_PASSPHRASE: PASSPHRASE },
        timeout: 60_000
      })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code?: number, stdout?: string, stderr?: string }
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
    }
  }

  /** Runs a command that must succeed, and returns its stdout. */
  async ok (...args: string[]): Promise<string> {
    const result = await this.cli(...args)
    if (result.code !== 0) throw new Error(`aerie ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
    return result.stdout
  }

  /** Starts `aerie run` on a random loopback port and waits until it answers. */
  async start (env: Record<string, string> = {}, runArgs = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']): Promise<void> {
    const [file, argv] = this.command([BIN, '--home', this.home, 'run', ...runArgs])
    this.agent = spawn(file, argv, {
      env: { ...process.env, AERIE_CA_PASSPHRASE: PASSPHRASE, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.agent.stdout!.on('data', (d: Buffer) => { this.log += d.toString() })
    this.agent.stderr!.on('data', (d: Buffer) => { this.log += d.toString() })
    await waitFor(async () => (await this.cli('status', '--json')).code === 0, `agent in ${this.home} to start\n${this.log}`)
  }

  /** `ip netns exec`, `unshare` and `sh -c exec` replace themselves with node, so the PID we hold is the agent's. */
  private command (args: string[]): [string, string[]] {
    if (this.smallDisk !== undefined) {
      const running = this.agent?.pid
      if (running !== undefined && this.agent!.exitCode === null && this.agent!.signalCode === null) return ['nsenter', ['--target', String(running), '--mount', process.execPath, ...args]]
      return onSmallDisk(this.smallDisk, args)
    }
    return this.netns == null ? [process.execPath, args] : ['ip', ['netns', 'exec', this.netns, process.execPath, ...args]]
  }

  /** Runs a program (mkdir, cat, mount…) where this device's agent sees its files: on its small disk if it has one. */
  async onDisk (program: string, ...args: string[]): Promise<Buffer> {
    const pid = this.agent?.pid
    const [file, argv] = this.smallDisk === undefined || pid === undefined ? [program, args] : ['nsenter', ['--target', String(pid), '--mount', program, ...args]]
    return (await run(file, argv, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })).stdout
  }

  async stop (): Promise<void> {
    const agent = this.agent
    // A process killed by a signal has signalCode set and exitCode null.
    if (agent == null || agent.exitCode !== null || agent.signalCode !== null || agent.pid == null) return
    const exited = new Promise(resolve => agent.once('exit', resolve))
    agent.kill('SIGTERM')
    const timer = setTimeout(() => agent.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  /** Calls the running agent's control API directly (as the CLI does), for what a command does not show. */
  async control<T> (method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const { url, token } = JSON.parse(await readFile(join(this.home, 'agent.json'), 'utf8')) as { url: string, token: string }
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000)
    })
    if (!res.ok) throw new Error(`the agent in ${this.home} answered ${method} ${path} with ${res.status}: ${await res.text()}`)
    return await res.json() as T
  }

  async status (): Promise<Status> {
    return JSON.parse(await this.ok('status', '--json')) as Status
  }

  async address (): Promise<string> {
    const s = await this.status()
    return s.addresses[0]!.replace(/\/p2p\/.*$/, '')
  }

  async connectedTo (other: Device): Promise<boolean> {
    const them = JSON.parse(await other.ok('id', '--json')) as { deviceId: string }
    return (await this.status()).peers.some(p => p.deviceId === them.deviceId && p.connected)
  }
}

export interface Status {
  deviceId: string
  deviceName: string
  peerId: string
  addresses: string[]
  crlNumber?: string
  peers: Array<{ deviceId: string, deviceName: string, connected: boolean, bytesIn?: number }>
}

export class Lab {
  private readonly devices: Device[] = []
  private root?: string

  async device (name: string): Promise<Device> {
    this.root ??= await mkdtemp(join(tmpdir(), 'aerie-test-'))
    const device = new Device(join(this.root, name))
    this.devices.push(device)
    return device
  }

  /** A CA holder with a running agent. */
  async caHolder (name = 'alice', org = 'Example'): Promise<Device> {
    const device = await this.device(name)
    await device.ok('ca', 'init', '--org', org, '--user', `${name}@example.com`, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0')
    await device.start()
    return device
  }

  /** A device enrolled with `ca`, not yet running. */
  async enrolled (ca: Device, name: string): Promise<Device> {
    const code = await invite(ca, `${name}@example.com`)
    const device = await this.device(name)
    await device.ok('enroll', code, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0')
    return device
  }

  /** A running CA holder (`names[0]`) and running enrolled devices, all connected to it. */
  async connected (...names: string[]): Promise<Device[]> {
    const ca = await this.caHolder(names[0])
    const others = await Promise.all(names.slice(1).map(async name => await this.enrolled(ca, name)))
    await Promise.all(others.map(async device => { await device.start() }))
    for (const device of others) await waitFor(async () => await ca.connectedTo(device), `${names[0]!} to see ${device.home}`)
    return [ca, ...others]
  }

  async stopAll (): Promise<void> {
    await Promise.all(this.devices.map(async d => { await d.stop() }))
    if (this.root != null) await rm(this.root, { recursive: true, force: true })
  }
}

export async function invite (ca: Device, user: string, ...args: string[]): Promise<string> {
  const out = await ca.ok('invite', '--user', user, ...args)
  return out.trim().split('\n').at(-1)!
}

/** Polls until `check` holds; bounded in time, so a broken feature fails instead of hanging. */
export async function waitFor (check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}
