import { describe, expect, it } from 'vitest'
import { STOP_MESSAGE } from '../src/electron/agent-supervisor.ts'
import { createShell, opensInWindow } from '../src/electron/shell.ts'
import { iconBitmap } from '../src/electron/tray-icons.ts'
import { fakeElectron, ManualTimers } from './fake-electron.ts'
import { uiStatus } from './ui-status-fixture.ts'
import type { AgentLink } from '../src/electron/agent-link.ts'
import type { BackupJob } from '../src/node/backup/backup-agent.ts'
import type { UiStatus } from '../src/node/ui/ui-api.ts'

function shape (state: Parameters<typeof iconBitmap>[0]): string {
  const bitmap = iconBitmap(state, 1)
  return [...Array(bitmap.length / 4).keys()].map(i => bitmap[i * 4 + 3] === 0 ? '0' : '1').join('')
}

/** An agent link whose answers the test sets. */
function fakeLink (): AgentLink & { answer?: UiStatus, job?: BackupJob, port: number } {
  const link = {
    answer: undefined as UiStatus | undefined,
    job: undefined as BackupJob | undefined,
    port: 4000,
    ui: async () => link.answer === undefined ? undefined : { url: `http://127.0.0.1:${link.port}`, secret: 's'.repeat(43) },
    status: async () => link.answer,
    backups: async () => link.answer === undefined ? undefined : link.job === undefined ? {} : { job: link.job }
  }
  return link
}

/** A backup or restore job as the agent reports it. */
function job (id: number, kind: BackupJob['kind'], state: BackupJob['state'], more: Partial<BackupJob> = {}): BackupJob {
  return { id, kind, state, progress: { files: 0, needFiles: 0, bytes: 0, needBytes: 0 }, ...more }
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
    // With the V8 flags a long-running agent starts with (they cannot be set later).
    expect(fake.events.slice(0, 2)).toEqual(['agent fork agent-process.ts --max-semi-space-size=8', 'window open'])
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

  it('says once when a restore ends: what was restored and where, or why not and which files', async () => {
    const { fake, link, shell, timers } = start()
    await fake.app.ready()
    const request = { snapshot: 'latest', path: '/home/ada/docs', to: '/home/ada/restored', overwrite: false }
    link.answer = uiStatus([{}])
    link.job = job(1, 'restore', 'running', { restore: request })
    await shell!.poll()
    expect(fake.notifications).toEqual([])

    link.job = job(1, 'restore', 'done', { restore: request, result: { snapshot: { id: 'a1b2c3' }, files: 12, dirs: 2, symlinks: 0, bytes: 3 * 1024 * 1024, failed: [] } })
    await shell!.poll()
    await shell!.poll()
    expect(fake.notifications).toEqual([{ title: 'Restore finished', body: '12 files (3.0 MiB) of /home/ada/docs (snapshot a1b2c3) restored into /home/ada/restored.' }])

    // A restarted agent numbers its jobs from 1 again: its first restore is news.
    fake.children[0]!.exit(1)
    timers.fire(1_000)
    link.job = job(1, 'restore', 'done', { restore: { ...request, path: '' }, result: { snapshot: { id: 'd4e5f6' }, files: 1, dirs: 0, symlinks: 0, bytes: 5, failed: [] } })
    await shell!.poll()
    expect(fake.notifications.slice(1)).toEqual([{ title: 'Restore finished', body: '1 file (5 B) of snapshot d4e5f6 restored into /home/ada/restored.' }])

    // One that ended between two polls is said too; files that could not be restored are named.
    const failed = [1, 2, 3, 4].map(n => ({ path: `/home/ada/docs/f${n}.txt`, reason: 'chunk 0f… is missing in the repository' }))
    link.job = job(2, 'restore', 'failed', { restore: request, result: { failed }, error: { code: 'ERR_RESTORE_INCOMPLETE', message: '4 files were NOT restored (the rest were)' } })
    await shell!.poll()
    await shell!.poll()
    expect(fake.notifications.slice(2)).toEqual([{
      title: 'Restore incomplete: 4 files were not restored',
      body: '/home/ada/docs/f1.txt: chunk 0f… is missing in the repository\n/home/ada/docs/f2.txt: chunk 0f… is missing in the repository\n' +
        '/home/ada/docs/f3.txt: chunk 0f… is missing in the repository\nand 1 more (the Backup screen lists them)\nThe rest were restored into /home/ada/restored.'
    }])

    link.job = job(3, 'restore', 'failed', { restore: request, error: { code: 'ERR_NOT_FOUND', message: 'no snapshot latest on the team server' } })
    await shell!.poll()
    expect(fake.notifications.slice(3)).toEqual([{ title: 'Restore failed', body: 'no snapshot latest on the team server (restoring into /home/ada/restored)' }])

    // Files in the way: nothing was written, and whoever started it is being asked.
    link.job = job(4, 'restore', 'failed', { restore: request, error: { code: 'ERR_RESTORE_EXISTS', message: '1 item to restore already exists' } })
    await shell!.poll()
    expect(fake.notifications).toHaveLength(4)
  })

  it('says when a backup fails, once for the same reason, and nothing when backups work', async () => {
    const { fake, link, shell } = start()
    await fake.app.ready()
    link.answer = uiStatus([{}])
    link.job = job(1, 'backup', 'done', { result: { snapshot: { id: 's1' }, counters: {}, problems: [] } })
    await shell!.poll()
    link.job = job(2, 'backup', 'running')
    await shell!.poll()
    expect(fake.notifications).toEqual([])

    const offline = { code: 'ERR_NOT_CONFIGURED', message: 'the team server is not connected right now; try again when it is online' }
    link.job = job(2, 'backup', 'failed', { error: offline })
    await shell!.poll()
    await shell!.poll()
    // The schedule's next try fails the same way: not said again.
    link.job = job(3, 'backup', 'failed', { error: offline })
    await shell!.poll()
    expect(fake.notifications).toEqual([{ title: 'Backup failed', body: offline.message }])
    // After a backup that worked, a failure is news again.
    link.job = job(4, 'backup', 'done', { result: { snapshot: { id: 's2' }, counters: {}, problems: [] } })
    await shell!.poll()
    link.job = job(5, 'backup', 'failed', { error: offline })
    await shell!.poll()
    expect(fake.notifications).toHaveLength(2)
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
