import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Device, invite, waitFor } from '../../test/support/agents.ts'
import { BenchError } from './measure.ts'

/**
 * Two real `aerie run` agents on 127.0.0.1 for the sync benchmark: an owner (the CA
 * holder, whose folder is the source) and a member enrolled by it (the receiver). The
 * agents are the test suite's Devices; they are killed by PID if the benchmark exits
 * early, whatever the reason.
 */
export interface FolderView {
  id: string
  state: string
  files: number
  lastScan?: string
  watching?: boolean
  needFiles: number
  needBytes: number
  inSync: boolean
  pull?: { doneFiles: number, doneBytes: number, networkBytes: number }
  pullProblems: Array<{ path: string, message: string }>
}

export interface AgentStatus {
  deviceId: string
  peers: Array<{ deviceId: string, connected: boolean, bytesIn: number, bytesOut: number }>
  folders: FolderView[]
  offers: Array<{ folder: string }>
}

export interface AgentPair extends AsyncDisposable {
  readonly owner: Device
  readonly member: Device
  readonly ownerId: string
  readonly memberId: string
  /** What `aerie status --json` prints, from the same control API route without starting a CLI process. */
  status(device: Device): Promise<AgentStatus>
  /** The folder as the device's agent reports it (undefined until it is set up there). */
  folder(device: Device, id: string): Promise<FolderView | undefined>
  /** Bytes of index records and chunks the member has received from the owner. */
  memberBytesIn(): Promise<number>
  /** The owner adds `dir` as folder `id`, scans it, and shares it with the member, who sees the offer. */
  offer(dir: string, id: string): Promise<void>
  pid(device: Device): number
  /** When (performance.now()) the device's agent last logged a finished pull that brought files. */
  lastPull(device: Device): number | undefined
  /** Lines of both agents' logs that look like trouble, for the report. */
  troubles(): string[]
  /** Aborts when either agent exits before the pair is disposed of. */
  readonly failed: AbortSignal
}

const SETUP_MS = 120_000

export async function startAgentPair (root: string): Promise<AgentPair> {
  const owner = new Device(join(root, 'owner'))
  const member = new Device(join(root, 'member'))
  const devices = [owner, member]
  const kill = (): void => {
    for (const device of devices) {
      const agent = device.agent
      if (agent?.pid != null && agent.exitCode == null && agent.signalCode == null) {
        try { process.kill(agent.pid, 'SIGKILL') } catch { /* already gone */ }
      }
    }
  }
  process.on('exit', kill)
  const failure = new AbortController()
  let stopping = false
  const pulls = new Map<Device, number>()
  const watch = (device: Device): void => {
    // The agent logs "folder X: synced N of M items, …" as a pull ends: that moment, at no cost to it.
    device.agent?.stdout?.on('data', (data: Buffer) => {
      if (PULLED.test(data.toString())) pulls.set(device, performance.now())
    })
    device.agent?.once('exit', (code, signal) => {
      if (!stopping) failure.abort(new BenchError(`the agent in ${device.home} exited (${signal ?? `code ${code}`}):\n${device.log.slice(-2000)}`))
    })
  }
  const stop = async (): Promise<void> => {
    stopping = true
    await Promise.all(devices.map(async d => { await d.stop() }))
    process.off('exit', kill)
  }

  const controls = new Map<Device, { url: string, token: string }>()
  const status = async (device: Device): Promise<AgentStatus> => {
    let control = controls.get(device)
    if (control == null) {
      control = JSON.parse(await readFile(join(device.home, 'agent.json'), 'utf8')) as { url: string, token: string }
      controls.set(device, control)
    }
    const res = await fetch(`${control.url}/v1/status`, { headers: { authorization: `Bearer ${control.token}` }, signal: AbortSignal.timeout(30_000) })
    if (!res.ok) throw new BenchError(`the agent in ${device.home} answered ${res.status} to a status request`)
    return await res.json() as AgentStatus
  }

  try {
    await owner.ok('ca', 'init', '--org', 'Aerie Bench', '--user', 'owner@example.com', '--name', 'owner', '--listen', '/ip4/127.0.0.1/tcp/0')
    await owner.start()
    watch(owner)
    const code = await invite(owner, 'member@example.com')
    await member.ok('enroll', code, '--name', 'member', '--listen', '/ip4/127.0.0.1/tcp/0')
    await member.start()
    watch(member)
    const ownerId = (await status(owner)).deviceId
    const memberId = (await status(member)).deviceId
    await waitFor(async () => (await status(owner)).peers.some(p => p.deviceId === memberId && p.connected), 'the agents to connect', SETUP_MS)

    const folder = async (device: Device, id: string): Promise<FolderView | undefined> => (await status(device)).folders.find(f => f.id === id)
    return {
      owner,
      member,
      ownerId,
      memberId,
      status,
      folder,
      memberBytesIn: async () => (await status(member)).peers.find(p => p.deviceId === ownerId)?.bytesIn ?? 0,
      async offer (dir, id) {
        await owner.ok('folder', 'add', dir, '--id', id)
        // The owner's first scan is not what is measured: wait for it before the member joins.
        await waitFor(async () => {
          const view = await folder(owner, id)
          return view?.state === 'idle' && view.lastScan != null
        }, `the owner's first scan of ${dir}`, SETUP_MS * 5)
        await owner.ok('folder', 'share', id, memberId, '--role', 'editor')
        await waitFor(async () => (await status(member)).offers.some(o => o.folder === id), `the offer of folder ${id} to reach the member`, SETUP_MS)
      },
      pid (device) {
        const pid = device.agent?.pid
        if (pid == null) throw new BenchError(`the agent in ${device.home} is not running`)
        return pid
      },
      lastPull: (device) => pulls.get(device),
      troubles () {
        return devices.flatMap(d => d.log.split('\n')
          .filter(line => TROUBLE.test(line))
          .map(line => `${d === owner ? 'owner' : 'member'}: ${line}`))
      },
      failed: failure.signal,
      [Symbol.asyncDispose]: stop
    }
  } catch (err) {
    const logs = devices.map(d => `${d.home}:\n${d.log.slice(-2000)}`).join('\n')
    await stop()
    throw new BenchError(`starting two agents failed: ${(err as Error).message}\n${logs}`, { cause: err })
  }
}

const PULLED = /: synced \d+ of \d+ items/
const TROUBLE = /error|fail|refused|stopped|cannot|could not|not yet|conflict|timed out|unhandled/i
