import { spawn, execFile } from 'node:child_process'
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Client } from '../../apps/server/test/web/harness.ts'
import { waitFor } from './agents.ts'
import { onSmallDisk } from './small-disk.ts'
import type { ChildProcess } from 'node:child_process'
import type { Device } from './agents.ts'

/**
 * A real `aerie-server` process for end-to-end tests: its own data directory, its libp2p peer
 * on a random loopback port, its console on plain HTTP on 127.0.0.1 (a random port). Stopped
 * by PID in `stop()`.
 */
const BIN = resolve(import.meta.dirname, '../../apps/server/bin/aerie-server.js')
const run = promisify(execFile)

export interface ServerState { pid: number, locked: boolean, webUrl?: string, deviceId?: string, p2pAddresses?: string[] }

export class ServerProcess {
  readonly dataDir: string
  process?: ChildProcess
  log = ''

  constructor (dataDir: string) {
    this.dataDir = dataDir
  }

  get env (): NodeJS.ProcessEnv {
    return { ...process.env, AERIE_DATA: this.dataDir, AERIE_MDNS: 'false' }
  }

  /**
   * Starts the server; its console is plain HTTP unless `https` (then with the org CA's
   * certificate, or `--tls-cert`). `storeBytes`: its chunk store on a file system of that size
   * of its own (a tmpfs in a mount namespace only the server sees: `unshare`, as root), to
   * fill its disk.
   */
  async start (args: string[] = [], env: Record<string, string> = {}, options: { https?: boolean, storeBytes?: number } = {}): Promise<ServerState> {
    const argv = [BIN, 'start', '--host', '127.0.0.1', ...(options.https === true ? [] : ['--http']), '--port', '0', '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--org', 'Example', ...args]
    const spawnEnv = { ...this.env, ...env }
    if (options.storeBytes === undefined) {
      this.process = spawn(process.execPath, argv, { env: spawnEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    } else {
      const store = join(this.dataDir, 'store')
      await mkdir(store, { recursive: true, mode: 0o700 })
      const [file, onDisk] = onSmallDisk({ dir: store, bytes: options.storeBytes }, argv)
      this.process = spawn(file, onDisk, { env: spawnEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    }
    const started = this.process
    started.stdout!.on('data', (d: Buffer) => { this.log += d.toString() })
    started.stderr!.on('data', (d: Buffer) => { this.log += d.toString() })
    let state: ServerState | undefined
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`aerie-server exited (${started.exitCode}):\n${this.log}`)
      state = await this.state().catch(() => undefined)
      return state?.pid === started.pid
    }, `aerie-server in ${this.dataDir} to start\n${this.log}`, 60_000)
    return state!
  }

  async state (): Promise<ServerState> {
    return JSON.parse(await readFile(join(this.dataDir, 'server-state.json'), 'utf8')) as ServerState
  }

  /** Runs an `aerie-server` command to completion. */
  async cli (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...this.env, ...env }, timeout: 60_000 })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code?: number, stdout?: string, stderr?: string }
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) }
    }
  }

  /** Runs an `aerie-server` command that must succeed; returns its stdout. */
  async ok (args: string[], env: Record<string, string> = {}): Promise<string> {
    const result = await this.cli(args, env)
    if (result.code !== 0) throw new Error(`aerie-server ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
    return result.stdout
  }

  /** The one-time token of the first-admin setup link. */
  async setupToken (): Promise<string> {
    return (await readFile(join(this.dataDir, 'setup-token'), 'utf8')).trim()
  }

  /** The first admin (admin@example.com), signed in to the console's API. */
  async setUpAdmin (): Promise<Client> {
    const admin = new Client((await this.state()).webUrl!)
    const setup = await admin.post('/api/v1/setup', { token: await this.setupToken(), email: 'admin@example.com', password: 'a long admin password' })
    if (setup.status !== 200) throw new Error(`setting up the first admin failed: ${JSON.stringify(setup.body)}`)
    return admin
  }

  /** Enrolls a device (not yet running) with a code from this server, as `NAME@example.com`, listening on loopback. */
  async enroll (device: Device, name: string): Promise<void> {
    await device.ok('enroll', await this.invite(`${name}@example.com`), '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0')
  }

  /** Enrolls a device as NAME@example.com, starts it, and waits until the server says it is connected. */
  async connect (device: Device, name: string): Promise<void> {
    await this.enroll(device, name)
    await device.start()
    await waitFor(() => this.log.includes(`connected to ${name}`), `${name} to reach the server\n${this.log}`, 60_000)
  }

  /** Adds `dir` on `device` as folder `id` (more `folder add` flags after) and waits until this server keeps a copy of it. */
  async keepFolder (device: Device, dir: string, id: string, ...flags: string[]): Promise<void> {
    await device.ok('folder', 'add', dir, '--id', id, ...flags)
    await waitFor(() => new RegExp(`folder ${id}: kept \\d+ of \\d+ items`).test(this.log), `the server to keep folder ${id}\n${this.log}`, 60_000)
  }

  /** Flips one byte, `at` bytes into the server's oldest pack file (damage on its disk); returns that pack's size. */
  async flipPackByte (at: number): Promise<number> {
    const packs = join(this.dataDir, 'store/packs')
    const files = await Promise.all((await readdir(packs, { recursive: true })).map(async name => ({ path: join(packs, name), stats: await stat(join(packs, name)) })))
    const oldest = files.filter(f => f.stats.isFile()).sort((a, b) => a.stats.mtimeMs - b.stats.mtimeMs)[0]!
    const file = await open(oldest.path, 'r+')
    try {
      const byte = Buffer.alloc(1)
      await file.read(byte, 0, 1, at)
      byte[0]! ^= 0xff
      await file.write(byte, 0, 1, at)
    } finally {
      await file.close()
    }
    return oldest.stats.size
  }

  async invite (user: string): Promise<string> {
    return (await this.ok(['invite', '--user', user])).trim().split('\n').at(-1)!
  }

  async stop (): Promise<void> {
    const child = this.process
    if (child == null || child.exitCode !== null || child.signalCode !== null || child.pid == null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
}

/**
 * A small home to back up: `ROOT/ada-home/Documents` with `photos/big.raw` (the given bytes) and
 * `note.txt`, added to `device`'s backup set and backed up once. Its first snapshot.
 */
export async function backUpDocuments (device: Device, root: string, big: Uint8Array): Promise<{ docs: string, snapshot: { id: string, deviceId: string } }> {
  const docs = join(root, 'ada-home/Documents')
  await mkdir(join(docs, 'photos'), { recursive: true })
  await writeFile(join(docs, 'photos/big.raw'), big)
  await writeFile(join(docs, 'note.txt'), BACKED_UP_NOTE)
  await device.ok('backup', 'add', docs)
  const { snapshot } = JSON.parse(await device.ok('backup', 'run', '--json')) as { snapshot: { id: string, deviceId: string } }
  return { docs, snapshot }
}

export const BACKED_UP_NOTE = 'a small note\n'
