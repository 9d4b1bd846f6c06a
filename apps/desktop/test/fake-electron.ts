import { EventEmitter } from 'node:events'
import type { ElectronApi } from '../src/electron/shell.ts'
import type { AgentChild, Timers } from '../src/electron/agent-supervisor.ts'

/**
 * A small stand-in for the `electron` module (its binary cannot be downloaded here): it
 * records what the shell asks of it, in order, into `events`, and lets a test play the parts
 * Electron would (app ready, quit, the agent process exiting).
 */
export class FakeChild extends EventEmitter implements AgentChild {
  readonly messages: unknown[] = []
  killed = false
  private readonly events: string[]

  constructor (events: string[]) {
    super()
    this.events = events
  }

  postMessage (message: unknown): void {
    this.messages.push(message)
    this.events.push(`agent message ${JSON.stringify(message)}`)
  }

  kill (): boolean {
    this.killed = true
    this.events.push('agent killed')
    this.exit(-1)
    return true
  }

  exit (code: number): void {
    this.events.push(`agent exit ${code}`)
    this.emit('exit', code)
  }
}

/** Timers the test runs by hand: no waiting, no timing assertions. */
export class ManualTimers implements Timers {
  private next = 0
  readonly pending = new Map<number, { fn: () => void, ms: number }>()

  setTimeout (fn: () => void, ms: number): unknown {
    const handle = ++this.next
    this.pending.set(handle, { fn, ms })
    return handle
  }

  clearTimeout (handle: unknown): void {
    this.pending.delete(handle as number)
  }

  /** The delays waiting, in order of creation. */
  delays (): number[] {
    return [...this.pending.values()].map(t => t.ms)
  }

  /** Fires the oldest timer that waits `ms` (any, without it). */
  fire (ms?: number): void {
    const entry = [...this.pending.entries()].find(([, t]) => ms === undefined || t.ms === ms)
    if (entry === undefined) throw new Error(`no timer${ms === undefined ? '' : ` of ${ms} ms`} is waiting`)
    this.pending.delete(entry[0])
    entry[1].fn()
  }
}

export interface FakeMenuItem { label?: string, type?: string, checked?: boolean, click?: (item: { checked: boolean }) => void }

export interface FakeElectron {
  electron: ElectronApi
  events: string[]
  app: EventEmitter & { ready(): Promise<void>, quit(): void, quitCalls: number, loginItem: boolean }
  children: FakeChild[]
  windows: Array<{ urls: string[] }>
  tray(): { image?: string, tooltip?: string, menu: FakeMenuItem[] }
  notifications: Array<{ title: string, body: string }>
}

export function fakeElectron (options: { gotLock?: boolean } = {}): FakeElectron {
  const events: string[] = []
  const children: FakeChild[] = []
  const windows: Array<{ urls: string[] }> = []
  const notifications: Array<{ title: string, body: string }> = []
  let readyResolve: () => void = () => {}
  const readyPromise = new Promise<void>(resolve => { readyResolve = resolve })
  let trayState: ReturnType<FakeElectron['tray']> | undefined

  const app = Object.assign(new EventEmitter(), {
    quitCalls: 0,
    loginItem: false,
    async ready () { readyResolve(); await readyPromise; await new Promise(resolve => setImmediate(resolve)) },
    requestSingleInstanceLock: () => options.gotLock ?? true,
    whenReady: async () => { await readyPromise },
    quit () {
      app.quitCalls++
      events.push('app quit')
      // Electron emits before-quit; a handler may prevent it.
      let prevented = false
      app.emit('before-quit', { preventDefault: () => { prevented = true } })
      events.push(prevented ? 'quit prevented' : 'app gone')
    },
    getLoginItemSettings: () => ({ openAtLogin: app.loginItem }),
    setLoginItemSettings: (settings: { openAtLogin: boolean }) => { app.loginItem = settings.openAtLogin; events.push(`login item ${settings.openAtLogin}`) }
  })

  class Image {
    readonly shape: string
    constructor (shape: string) { this.shape = shape }
    addRepresentation (): void {}
    setTemplateImage (): void {}
  }

  class BrowserWindow {
    readonly record = { urls: [] as string[] }
    readonly webContents = { setWindowOpenHandler: () => {}, on: () => {} }
    constructor () { windows.push(this.record); events.push('window open') }
    async loadURL (url: string): Promise<void> { this.record.urls.push(url) }
    isDestroyed (): boolean { return false }
    show (): void {}
    focus (): void { events.push('window focus') }
  }

  class Tray extends EventEmitter {
    constructor (image: Image) {
      super()
      trayState = { image: image.shape, menu: [] }
    }

    setImage (image: Image): void { trayState!.image = image.shape }
    setToolTip (text: string): void { trayState!.tooltip = text }
    setContextMenu (menu: { items: FakeMenuItem[] }): void { trayState!.menu = menu.items }
    destroy (): void { events.push('tray gone') }
  }

  const electron = {
    app,
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (items: FakeMenuItem[]) => ({ items }) },
    nativeImage: {
      // The shape: which pixels are opaque, as a string of 0 and 1.
      createFromBitmap: (buffer: Buffer) => new Image([...Array(buffer.length / 4).keys()].map(i => buffer[i * 4 + 3] === 0 ? '0' : '1').join(''))
    },
    Notification: class {
      static isSupported (): boolean { return true }
      private readonly notice: { title: string, body: string }
      constructor (notice: { title: string, body: string }) { this.notice = notice }
      show (): void { notifications.push(this.notice) }
    },
    utilityProcess: {
      fork: (entry: string, _args: string[], options?: { execArgv?: string[] }) => {
        const child = new FakeChild(events)
        children.push(child)
        events.push(['agent fork', entry, ...options?.execArgv ?? []].join(' '))
        return child
      }
    }
  }

  return {
    electron: electron as unknown as ElectronApi,
    events,
    app,
    children,
    windows,
    tray: () => trayState!,
    notifications
  }
}
