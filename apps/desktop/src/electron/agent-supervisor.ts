/**
 * Keeps the agent running in its own process (Electron's utilityProcess): starts it,
 * restarts it when it dies (waiting longer after each quick death, so a crash loop does not
 * spin), and stops it cleanly on quit: first asks it to stop as Ctrl-C would (transfers end
 * between files, the index closes), and only kills it when it does not stop in time.
 */
export interface AgentChild {
  postMessage(message: unknown): void
  kill(): boolean
  on(event: 'exit', listener: (code: number) => void): unknown
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface AgentSupervisorInit {
  fork(): AgentChild
  log(line: string): void
  /** A (re)started agent: the shell finds its UI again (the port changes). */
  onStart?(): void
  timers?: Timers
  now?(): number
  /** How long a clean stop may take before the agent is killed. */
  stopTimeoutMs?: number
}

/** The message agent-process.ts stops on. */
export const STOP_MESSAGE = { type: 'stop' } as const

const FIRST_DELAY_MS = 1_000
const MAX_DELAY_MS = 60_000
/** An agent that ran this long before dying was not crash-looping: start again at once-ish. */
const STABLE_MS = 60_000

export class AgentSupervisor {
  private readonly init: AgentSupervisorInit
  private readonly timers: Timers
  private child?: AgentChild
  private startedAt = 0
  private delay = FIRST_DELAY_MS
  private restartTimer?: unknown
  private stopping = false
  private exited?: Promise<void>
  /** Restarts after a death, for the tray's tooltip and for tests. */
  restarts = 0

  constructor (init: AgentSupervisorInit) {
    this.init = init
    this.timers = init.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => { clearTimeout(h as NodeJS.Timeout) } }
  }

  get running (): boolean {
    return this.child !== undefined
  }

  start (): void {
    if (this.stopping || this.child !== undefined) return
    const now = this.init.now ?? Date.now
    const child = this.init.fork()
    this.child = child
    this.startedAt = now()
    this.exited = new Promise(resolve => {
      child.on('exit', (code) => {
        this.child = undefined
        resolve()
        if (this.stopping) return
        if (now() - this.startedAt >= STABLE_MS) this.delay = FIRST_DELAY_MS
        this.init.log(`the agent stopped unexpectedly (exit code ${code}); starting it again in ${this.delay / 1000} s`)
        this.restartTimer = this.timers.setTimeout(() => { this.restartTimer = undefined; this.restarts++; this.start() }, this.delay)
        this.delay = Math.min(this.delay * 2, MAX_DELAY_MS)
      })
    })
    this.init.onStart?.()
  }

  /** Stops the agent and keeps it stopped; resolves once its process has exited. */
  async stop (): Promise<void> {
    this.stopping = true
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer)
    const child = this.child
    if (child === undefined) return
    child.postMessage(STOP_MESSAGE)
    let timer: unknown
    const late = new Promise<'late'>(resolve => { timer = this.timers.setTimeout(() => { resolve('late') }, this.init.stopTimeoutMs ?? 30_000) })
    if (await Promise.race([this.exited!, late]) === 'late') {
      this.init.log('the agent did not stop in time; ending it')
      child.kill()
      await this.exited
    }
    this.timers.clearTimeout(timer)
  }
}
