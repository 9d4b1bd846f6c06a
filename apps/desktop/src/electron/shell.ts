import { AGENT_V8_FLAGS } from '@aerie/core/basics'
import { AgentSupervisor } from './agent-supervisor.ts'
import { uiLink } from './agent-link.ts'
import { jobNotices, noticesBetween } from './notifications.ts'
import { iconBitmap } from './tray-icons.ts'
import { trayState } from './tray-state.ts'
import type { AgentLink, AgentUi } from './agent-link.ts'
import type { JobsSeen, Notice } from './notifications.ts'
import type { Timers } from './agent-supervisor.ts'
import type { TrayState, TrayView } from './tray-state.ts'
import type { UiStatus } from '../node/ui/ui-api.ts'
import type electronModule from 'electron'
import type { BrowserWindow as BrowserWindowType, Tray as TrayType } from 'electron'

/**
 * The Electron shell, given Electron itself (main.ts passes the real module, tests a fake):
 * one instance; the agent in a utility process, restarted when it dies; a tray whose icon
 * shape and tooltip say the state; notifications; start at login (opt-in); a window that
 * shows the agent's own UI; and a quit that stops the agent before the app goes.
 * Everything a person sees and does is the agent's UI: the shell stays thin.
 */
export type ElectronApi = Pick<typeof electronModule, 'app' | 'BrowserWindow' | 'Tray' | 'Menu' | 'nativeImage' | 'Notification' | 'utilityProcess'>

export interface ShellOptions {
  /** The device home the agent runs on (AERIE_HOME). */
  home: string
  /** agent-process.ts: what the utility process runs. */
  agentEntry: string
  preload: string
  link: AgentLink
  log(line: string): void
  pollMs?: number
  timers?: Timers
}

export interface Shell {
  supervisor: AgentSupervisor
  /** One round of asking the agent how it is (the shell does it every `pollMs`). */
  poll(): Promise<void>
  tray(): TrayView
}

export function createShell (electron: ElectronApi, options: ShellOptions): Shell | undefined {
  const { app } = electron
  if (!app.requestSingleInstanceLock()) {
    // The first instance gets 'second-instance' and shows its window.
    app.quit()
    return undefined
  }
  const timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => { clearTimeout(h as NodeJS.Timeout) } }
  let window: BrowserWindowType | undefined
  let tray: TrayType | undefined
  let ui: AgentUi | undefined
  let last: UiStatus | undefined
  let jobsSeen: JobsSeen = {}
  let view: TrayView = trayState(undefined)
  let pollTimer: unknown
  let quitting = false
  let stopped = false

  const supervisor = new AgentSupervisor({
    // The agent's V8 flags are given at its start (see AGENT_V8_FLAGS).
    fork: () => electron.utilityProcess.fork(options.agentEntry, [], { env: { ...process.env, AERIE_HOME: options.home }, execArgv: [...AGENT_V8_FLAGS], serviceName: 'Aerie agent', stdio: 'inherit' }),
    log: options.log,
    // A new agent listens on a new port: find it again. Its jobs are new too (their ids start again).
    onStart: () => { ui = undefined; jobsSeen = { ...jobsSeen, job: undefined } },
    timers
  })

  function image (state: TrayState): ReturnType<typeof electron.nativeImage.createFromBitmap> {
    const icon = electron.nativeImage.createFromBitmap(iconBitmap(state, 1), { width: 16, height: 16 })
    icon.addRepresentation({ scaleFactor: 2, width: 32, height: 32, buffer: iconBitmap(state, 2) })
    icon.setTemplateImage(true)
    return icon
  }

  function showWindow (): void {
    if (window !== undefined && !window.isDestroyed()) { window.show(); window.focus(); return }
    window = new electron.BrowserWindow({
      width: 1100,
      height: 800,
      title: 'Aerie',
      webPreferences: { preload: options.preload, contextIsolation: true, sandbox: true, nodeIntegration: false }
    })
    // The window shows the agent's UI and nothing else.
    // Only a file of a folder (a conflict's versions) opens in a window of its own.
    window.webContents.setWindowOpenHandler(({ url }) => ui !== undefined && opensInWindow(url, ui.url) ? { action: 'allow' } : { action: 'deny' })
    window.webContents.on('will-navigate', (event, url) => { if (ui === undefined || !url.startsWith(`${ui.url}/`)) event.preventDefault() })
    if (ui !== undefined) void window.loadURL(uiLink(ui.url, ui.secret))
  }

  function updateMenu (): void {
    tray?.setContextMenu(electron.Menu.buildFromTemplate([
      { label: 'Open Aerie', click: showWindow },
      { type: 'separator' },
      {
        label: 'Start at login',
        type: 'checkbox',
        checked: app.getLoginItemSettings().openAtLogin,
        click: (item) => { app.setLoginItemSettings({ openAtLogin: item.checked }) }
      },
      { type: 'separator' },
      { label: 'Quit Aerie', click: () => { app.quit() } }
    ]))
  }

  async function poll (): Promise<void> {
    const before = ui
    ui ??= await options.link.ui()
    const status = ui === undefined ? undefined : await options.link.status(ui)
    if (status === undefined) ui = undefined
    if (ui !== undefined && ui.url !== before?.url && window !== undefined && !window.isDestroyed()) void window.loadURL(uiLink(ui.url, ui.secret))
    const next = trayState(status)
    if (next.state !== view.state) tray?.setImage(image(next.state))
    if (next.tooltip !== view.tooltip) tray?.setToolTip(next.tooltip)
    view = next
    if (ui !== undefined && status !== undefined) {
      const notices = noticesBetween(last, status)
      last = status
      const backups = await options.link.backups(ui)
      if (backups !== undefined) {
        const jobs = jobNotices(jobsSeen, backups.job)
        notices.push(...jobs.notices)
        jobsSeen = jobs.seen
      }
      notify(notices)
    }
  }

  function notify (notices: Notice[]): void {
    if (electron.Notification.isSupported()) for (const notice of notices) new electron.Notification(notice).show()
  }

  function schedulePoll (): void {
    if (stopped) return
    pollTimer = timers.setTimeout(() => { poll().catch((err: Error) => { options.log(`status: ${err.message}`) }).finally(schedulePoll) }, options.pollMs ?? 2_000)
  }

  app.on('second-instance', showWindow)
  // Closing the window leaves Aerie in the tray; only Quit ends it.
  app.on('window-all-closed', () => {})
  app.on('before-quit', (event) => {
    if (stopped) return
    event.preventDefault()
    if (quitting) return
    quitting = true
    timers.clearTimeout(pollTimer)
    supervisor.stop().catch((err: Error) => { options.log(`stopping the agent: ${err.message}`) }).finally(() => {
      stopped = true
      tray?.destroy()
      app.quit()
    })
  })

  void app.whenReady().then(() => {
    supervisor.start()
    tray = new electron.Tray(image(view.state))
    tray.setToolTip(view.tooltip)
    tray.on('click', showWindow)
    updateMenu()
    showWindow()
    schedulePoll()
  })

  return { supervisor, poll, tray: () => view }
}

/** Whether a link the UI opens may get a window: only the UI's own file view (sandboxed by its CSP). */
export function opensInWindow (url: string, uiUrl: string): boolean {
  return url.startsWith(`${uiUrl}/api/v1/folders/open?`)
}
