import { join } from 'node:path'
import { Device, waitFor } from '../../test/support/agents.ts'
import { ServerProcess } from '../../test/support/team-server.ts'
import { BenchError } from './measure.ts'
import type { ChildProcess } from 'node:child_process'
import type { AgentStatus, FolderView } from './agent-pair.ts'

/**
 * A real `aerie-server` and one real `aerie run` agent enrolled against it, on 127.0.0.1,
 * for the server benchmark. The server listens again where it first listened each time it is
 * started, so it can be stopped while the agent scans and started where the agent will dial. Both are
 * the test suite's processes; they are killed by PID if the benchmark exits early.
 */
export interface ServerAndAgent extends AsyncDisposable {
  readonly server: ServerProcess
  readonly agent: Device
  readonly serverId: string
  /** Starts the server (again); resolves once it has written its state file. */
  startServer(): Promise<void>
  stopServer(): Promise<void>
  serverPid(): number
  agentPid(): number
  status(): Promise<AgentStatus>
  /** The agent adds `dir` as folder `id` and scans it; resolves with the scan's seconds (`folder add` included). */
  addFolder(dir: string, id: string): Promise<number>
  /** The ends of both logs, for a failure's message. */
  logTails(): string
  /** Aborts when the server or the agent exits unasked. */
  readonly failed: AbortSignal
}

const SETUP_MS = 120_000
const AGENT_NAME = 'bench-agent'

export async function startServerAndAgent (root: string): Promise<ServerAndAgent> {
  const server = new ServerProcess(join(root, 'server'))
  const agent = new Device(join(root, 'agent'))
  let addresses: string[] | undefined
  const failure = new AbortController()
  let stopping = false
  const alive = (child: ChildProcess | undefined): child is ChildProcess =>
    child != null && child.exitCode == null && child.signalCode == null
  const kill = (): void => {
    for (const child of [server.process, agent.agent]) {
      if (alive(child) && child.pid != null) {
        try { process.kill(child.pid, 'SIGKILL') } catch { /* already gone */ }
      }
    }
  }
  process.on('exit', kill)
  const logTails = (): string => `server log (${server.dataDir}):\n${server.log.slice(-2500)}\nagent log (${agent.home}):\n${agent.log.slice(-2500)}`
  const watchExit = (name: string, child: ChildProcess): void => {
    child.once('exit', (code, signal) => {
      if (!stopping) failure.abort(new BenchError(`the ${name} exited (${signal ?? `code ${code}`})\n${logTails()}`))
    })
  }

  const startServer = async (): Promise<void> => {
    // The agent redials the address it first reached the server at: listen there again.
    const state = await server.start((addresses ?? []).flatMap(a => ['--p2p-listen', a]))
    addresses ??= state.p2pAddresses
    if (addresses == null || addresses.length === 0) throw new BenchError(`the server did not say where it listens\n${logTails()}`)
    watchExit('server', server.process!)
  }
  const stopServer = async (): Promise<void> => {
    stopping = true
    try {
      await server.stop()
    } finally {
      stopping = false
    }
  }

  const status = async (): Promise<AgentStatus> => await agent.control<AgentStatus>('GET', '/v1/status')
  const folder = async (id: string): Promise<FolderView | undefined> => (await status()).folders.find(f => f.id === id)
  const pidOf = (what: string, child: ChildProcess | undefined): number => {
    if (!alive(child) || child.pid == null) throw new BenchError(`the ${what} is not running`)
    return child.pid
  }

  const dispose = async (): Promise<void> => {
    stopping = true
    await Promise.all([agent.stop(), server.stop()])
    process.off('exit', kill)
  }

  try {
    await startServer()
    const serverId = (await server.state()).deviceId
    if (serverId == null) throw new BenchError('the server did not say its device ID in server-state.json')
    await agent.ok('enroll', await server.invite('bench@example.com'), '--name', AGENT_NAME, '--listen', '/ip4/127.0.0.1/tcp/0')
    await agent.start()
    watchExit('agent', agent.agent!)
    // Once it has met the server, the agent shares each folder it creates with it.
    await waitFor(async () => (await status()).peers.some(p => p.deviceId === serverId && p.connected), 'the agent to connect to the server', SETUP_MS)
    return {
      server,
      agent,
      serverId,
      startServer,
      stopServer,
      serverPid: () => pidOf('server', server.process),
      agentPid: () => pidOf('agent', agent.agent),
      status,
      async addFolder (dir, id) {
        const started = performance.now()
        await agent.ok('folder', 'add', dir, '--id', id)
        await waitFor(async () => {
          failure.signal.throwIfAborted()
          const view = await folder(id)
          return view?.state === 'idle' && view.lastScan != null
        }, `the agent's first scan of ${dir}`, SETUP_MS * 5, 20)
        const seconds = (performance.now() - started) / 1000
        if (!agent.log.includes(`folder ${id}: kept in the team server's central copy too`)) {
          throw new BenchError(`the agent did not share folder ${id} with the team server\n${logTails()}`)
        }
        return seconds
      },
      logTails,
      failed: failure.signal,
      [Symbol.asyncDispose]: dispose
    }
  } catch (err) {
    const tails = logTails()
    await dispose()
    if (err instanceof BenchError) throw err
    throw new BenchError(`starting the server and the agent failed: ${(err as Error).message}\n${tails}`, { cause: err })
  }
}
