// The agent's own process under Electron (utilityProcess.fork): exactly `aerie run`, with the
// device home from AERIE_HOME. The shell asks it to stop with a message, which becomes what
// Ctrl-C is for `aerie run` (a clean stop), on every platform.
import { main } from '../node/cli/main.ts'
import { STOP_MESSAGE } from './agent-supervisor.ts'

interface ParentPort { on(event: 'message', listener: (event: { data: unknown }) => void): void }

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort
parentPort?.on('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === STOP_MESSAGE.type) process.emit('SIGTERM', 'SIGTERM')
})
process.exitCode = await main(['run'])
// libp2p may leave handles open after a clean stop: the process is done.
process.exit()
