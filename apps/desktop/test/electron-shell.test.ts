import { describe, expect, it } from 'vitest'
import { STOP_MESSAGE } from '../src/electron/agent-supervisor.ts'
import { createShell, opensInWindow } from '../src/electron/shell.ts'
import { iconBitmap } from '../src/electron/tray-icons.ts'
import { fakeElectron, ManualTimers } from './fake-electron.ts'
import { uiStatus } from './ui-status-fixture.ts'
import type { AgentLink } from '../src/electron/agent-link.ts'
import type { UiStatus } from '../src/node/ui/ui-api.ts'

function shape (state: Parameters<typeof iconBitmap>[0]): string {
  const bitmap = iconBitmap(state, 1)
  return [...Array(bitmap.length / 4).keys()].map(i => bitmap[i * 4 + 3] === 0 ? '0' : '1').join('')
}

/** An agent link whose answers the test sets. */
function fakeLink (): AgentLink & { answer?: UiStatus, port: number } {
  const link = {
    answer: undefined as UiStatus | undefined,
    port: 4000,
    ui: async () => link.answer === undefined ? undefined : { url: `http://127.0.0.1:${link.port}`, secret: 's'.repeat(43) },
    status: async () => link.answer
  }
  return link
}

function start (options: { gotLock?: boolean } = {}): { fake: ReturnType<typeof fakeElectron>, timers: ManualTimers, link: ReturnType<typeof fakeLink>, shell: ReturnType<typeof createShell>, log: string[] } {
  const fake = fakeElectron(options)
  const timers = new ManualTimers()
  const link = fakeLink()
  const log: string[] = []
  const shell = createShell(fake.electron, { home: '/home/ada/.aerie', agentEntry: 'agent-process.ts', preload: 'preload.ts', link, log: (line) => { log.push(line) }, timers, pollMs: 2_500 })
  return { fake, timers, link, shell, log }
}

describe('the Electron shell', () => {
  it('runs once: a second instance quits and starts nothing', async () => {
    const { fake, shell } = start({ gotLock: false })
    expect(shell).toBeUndefined()
    await fake.app.ready()
    expect(fake.events).toEqual(['app quit', 'app gone'])
    expect(fake.children).toEqual([])
  })

  it('starts the agent, opens the window on its UI with the secret, and shows the state in the tray', async () => {
    const { fake, link, shell } = start()
    await fake.app.ready()
    expect(fake.events.slice(0, 2)).toEqual(['agent fork agent-process.ts', 'window open'])
    expect(fake.tray().image).toBe(shape('offline'))

    link.answer = uiStatus([{ state: 'syncing', inSync: false, needFiles: 3 }])
    await shell!.poll()
    expect(fake.windows[0]!.urls).toEqual([`http://127.0.0.1:4000/#secret=${'s'.repeat(43)}`])
    expect(fake.tray()).toMatchObject({ image: shape('syncing'), tooltip: 'Aerie: syncing "Folder 0", 3 items to go' })

    link.answer = uiStatus([{ conflicts: 1 }])
    await shell!.poll()
    expect(fake.tray()).toMatchObject({ image: shape('in-sync'), tooltip: 'Aerie: up to date (1 folder), 1 conflict to resolve' })
    expect(fake.notifications.map(n => n.title)).toEqual(['A conflict in "Folder 0"'])

    // The agent stopped answering: offline, and the next agent's new port reloads the window.
    link.answer = undefined
    await shell!.poll()
    expect(fake.tray().image).toBe(shape('offline'))
    link.answer = uiStatus([{}])
    link.port = 4001
    await shell!.poll()
    expect(fake.windows[0]!.urls.at(-1)).toBe(`http://127.0.0.1:4001/#secret=${'s'.repeat(43)}`)
  })

  it('restarts the agent when it dies, waiting longer after each quick death', async () => {
    const { fake, timers, shell } = start()
    await fake.app.ready()
    fake.children[0]!.exit(1)
    expect(shell!.supervisor.running).toBe(false)
    expect(timers.delays()).toContain(1_000)
    timers.fire(1_000)
    expect(fake.children).toHaveLength(2)
    fake.children[1]!.exit(1)
    expect(timers.delays()).toContain(2_000)
    timers.fire(2_000)
    fake.children[2]!.exit(1)
    expect(timers.delays()).toContain(4_000)
    timers.fire(4_000)
    expect(fake.children).toHaveLength(4)
    expect(shell!.supervisor.restarts).toBe(3)
  })

  it('quits cleanly: the agent is asked to stop and has exited before the app goes', async () => {
    const { fake, shell } = start()
    await fake.app.ready()
    fake.app.quit()
    expect(fake.events.slice(-3)).toEqual(['app quit', `agent message ${JSON.stringify(STOP_MESSAGE)}`, 'quit prevented'])
    // A second Quit while stopping changes nothing.
    fake.app.quit()
    expect(fake.children[0]!.messages).toHaveLength(1)
    fake.children[0]!.exit(0)
    await new Promise(resolve => setImmediate(resolve))
    expect(fake.events.slice(-4)).toEqual(['agent exit 0', 'tray gone', 'app quit', 'app gone'])
    expect(fake.children).toHaveLength(1)
    expect(shell!.supervisor.running).toBe(false)
  })

  it('kills an agent that does not stop in time, and still quits', async () => {
    const { fake, timers } = start()
    await fake.app.ready()
    fake.app.quit()
    timers.fire(30_000)
    await new Promise(resolve => setImmediate(resolve))
    expect(fake.children[0]!.killed).toBe(true)
    expect(fake.events.slice(-3)).toEqual(['tray gone', 'app quit', 'app gone'])
    expect(fake.children).toHaveLength(1)
  })

  it('starts at login only when the person turns it on', async () => {
    const { fake } = start()
    await fake.app.ready()
    const item = fake.tray().menu.find(i => i.label === 'Start at login')!
    expect(item.checked).toBe(false)
    expect(fake.app.loginItem).toBe(false)
    item.click!({ checked: true })
    expect(fake.app.loginItem).toBe(true)
  })
})

describe('windows the UI may open', () => {
  it('opens only the UI\'s own view of a folder\'s file, nothing else', () => {
    const ui = 'http://127.0.0.1:4444'
    expect(opensInWindow(`${ui}/api/v1/folders/open?folder=team&path=plan.txt`, ui)).toBe(true)
    expect(opensInWindow('https://example.org/', ui)).toBe(false)
    expect(opensInWindow(`${ui}/api/v1/status`, ui)).toBe(false)
    expect(opensInWindow(`http://127.0.0.1:44449/api/v1/folders/open?folder=team&path=x`, ui)).toBe(false)
  })
})
