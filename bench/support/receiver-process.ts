import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { abortReason, BenchError, untilAborted } from './measure.ts'
import type { DeviceCredentials } from './devices.ts'
import type { FromReceiver, ToReceiver } from './transport-messages.ts'

const SCRIPT = resolve(import.meta.dirname, 'transport-receiver.ts')

export interface Receiver extends AsyncDisposable {
  readonly pid: number
  readonly tcpPort: number
  readonly tlsPort: number
  readonly aerieAddress: string
  /** Bytes the receiver has counted so far (updated a few times a second). */
  received(): number
  /** Aborts if the receiver process fails or exits. */
  readonly failed: AbortSignal
}

/**
 * Starts transport-receiver.ts as a child process and waits until it listens. The child
 * is killed by its PID when we exit, fail, or are interrupted, whatever happens.
 */
export async function startReceiver (credentials: DeviceCredentials, bytes: number): Promise<Receiver> {
  // Pass on --cpu-prof and the like, as fork() would, so both sides can be profiled.
  const child = spawn(process.execPath, [...process.execArgv, SCRIPT], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced'
  })
  const pid = child.pid
  if (pid == null) throw new Error('could not start the receiver process')
  const alive = (): boolean => child.exitCode == null && child.signalCode == null
  const kill = (): void => {
    if (!alive()) return
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
  const onInterrupt = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}, stopping the receiver process`)
    kill()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('exit', kill)
  process.once('SIGINT', onInterrupt)
  process.once('SIGTERM', onInterrupt)

  const failure = new AbortController()
  let received = 0
  let ready: Extract<FromReceiver, { type: 'ready' }> | undefined
  const readiness = Promise.withResolvers<void>()
  child.on('message', (message: FromReceiver) => {
    if (message.type === 'progress') received = message.bytes
    else if (message.type === 'ready') { ready = message; readiness.resolve() }
    else if (message.type === 'failed') failure.abort(new BenchError(message.message))
  })
  child.on('exit', (code, signal) => {
    failure.abort(new BenchError(`the receiver process exited (${signal ?? `code ${code}`})`))
  })

  const stop = async (): Promise<void> => {
    if (alive()) {
      const exited = new Promise(resolve => child.once('exit', resolve))
      if (child.connected) child.send({ type: 'stop' } satisfies ToReceiver)
      const timer = setTimeout(kill, 5_000)
      await exited
      clearTimeout(timer)
    }
    process.off('exit', kill)
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onInterrupt)
  }

  try {
    child.send({ type: 'start', credentials, bytes } satisfies ToReceiver)
    const signal = AbortSignal.any([failure.signal, AbortSignal.timeout(60_000)])
    await untilAborted(readiness.promise, signal).catch((err: unknown) => { throw abortReason(err, signal, 'starting the receiver') })
  } catch (err) {
    await stop()
    throw err
  }
  return {
    pid,
    tcpPort: ready!.tcpPort,
    tlsPort: ready!.tlsPort,
    aerieAddress: ready!.aerieAddress,
    received: () => received,
    failed: failure.signal,
    [Symbol.asyncDispose]: stop
  }
}
