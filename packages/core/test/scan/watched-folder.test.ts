import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FolderRunner } from '../../src/sync/index.ts'
import { EVENTUALLY, FOLDER_ID, useTempFolder } from './fixtures.ts'

// A running folder sees changes as they happen: the watcher's paths are scanned at once,
// long before the periodic rescan (set to an hour here) would find them.
describe('a watched folder', () => {
  const folder = useTempFolder()
  let runner: FolderRunner | undefined
  afterEach(async () => { await runner?.stop() })

  const start = async () => {
    runner = new FolderRunner({ id: FOLDER_ID, path: folder.root, index: folder.index, rescanMs: 3_600_000 })
    const scanned: number[] = []
    let scans = 0
    runner.addEventListener('scanned', (evt) => { scanned.push(evt.detail.changed) })
    runner.addEventListener('state', (evt) => { if (evt.detail.state === 'scanning') scans++ })
    runner.start()
    await vi.waitFor(() => { expect(runner!.status().watching).toBe(true) }, EVENTUALLY)
    return { runner, scanned, scans: () => scans }
  }

  it('records a created, modified, deleted and renamed file within seconds', async () => {
    await folder.write('old-name.txt', 'rename me')
    const { runner, scanned } = await start()
    expect(folder.local('old-name.txt')?.deleted).toBe(false)

    await folder.write('docs/new.txt', 'first')
    await vi.waitFor(() => { expect(folder.local('docs/new.txt')?.size).toBe(5) }, EVENTUALLY)
    expect(folder.local('docs')?.type).toBe('dir')
    expect(scanned.at(-1)).toBeGreaterThan(0)

    await writeFile(join(folder.root, 'docs/new.txt'), 'second version')
    await vi.waitFor(() => { expect(folder.local('docs/new.txt')?.size).toBe(14) }, EVENTUALLY)

    await rename(join(folder.root, 'old-name.txt'), join(folder.root, 'new-name.txt'))
    await vi.waitFor(() => {
      expect(folder.local('old-name.txt')?.deleted).toBe(true)
      expect(folder.local('new-name.txt')?.deleted).toBe(false)
    }, EVENTUALLY)

    await rm(join(folder.root, 'docs/new.txt'))
    await vi.waitFor(() => { expect(folder.local('docs/new.txt')?.deleted).toBe(true) }, EVENTUALLY)
    // docs and new-name.txt: the count follows the scoped scans too.
    expect(runner.status()).toMatchObject({ state: 'idle', files: 2 })
  })

  it('follows .aerieignore as it changes, and watches a directory it no longer ignores', async () => {
    await folder.write('.aerieignore', 'cache/\n*.tmp\n')
    await folder.write('cache/old.bin')
    const { runner } = await start()
    await folder.write('draft.tmp')
    await folder.write('visible.txt')
    await vi.waitFor(() => { expect(folder.local('visible.txt')?.deleted).toBe(false) }, EVENTUALLY)
    expect(folder.local('draft.tmp')).toBeUndefined()
    expect(runner.ignores('draft.tmp', false)).toBe(true)

    await folder.write('.aerieignore', '# all synced\n')
    await vi.waitFor(() => {
      expect(runner.ignores('cache', true)).toBe(false)
      expect(folder.local('draft.tmp')?.deleted).toBe(false)
      expect(folder.local('cache/old.bin')?.deleted).toBe(false)
    }, EVENTUALLY)
    await vi.waitFor(() => { expect(runner.status().watching).toBe(true) }, EVENTUALLY)
    await folder.write('cache/new.bin')
    await vi.waitFor(() => { expect(folder.local('cache/new.bin')?.deleted).toBe(false) }, EVENTUALLY)
  })

  it('under a brake, scans the whole folder for a watched change, so a few paths never lift it', async () => {
    for (let i = 0; i < 20; i++) await folder.write(`f${i}`)
    const { runner, scans } = await start()
    for (let i = 0; i < 15; i++) await rm(join(folder.root, `f${i}`))
    await vi.waitFor(() => { expect(runner.status()).toMatchObject({ state: 'needs-confirmation', brake: 'mass-deletion' }) }, EVENTUALLY)

    const before = scans()
    await folder.write('new.txt')
    await vi.waitFor(() => {
      expect(scans()).toBeGreaterThan(before)
      expect(runner.status().state).toBe('needs-confirmation')
    }, EVENTUALLY)
    expect(folder.local('new.txt')).toBeUndefined()
    expect(folder.local('f0')?.deleted).toBe(false)
  })

  it('brakes on a mass deletion that the watcher reports in several batches', async () => {
    for (let i = 0; i < 20; i++) await folder.write(`f${i}`)
    const { runner } = await start()
    for (let i = 0; i < 6; i++) await rm(join(folder.root, `f${i}`))
    await vi.waitFor(() => { expect(folder.local('f5')?.deleted).toBe(true) }, EVENTUALLY)
    for (let i = 6; i < 12; i++) await rm(join(folder.root, `f${i}`))
    await vi.waitFor(() => { expect(runner.status()).toMatchObject({ state: 'needs-confirmation', brake: 'mass-deletion' }) }, EVENTUALLY)
    expect(folder.local('f6')?.deleted).toBe(false)
  })

  it('watches its folder again once the folder comes back after it went away', async () => {
    runner = new FolderRunner({ id: FOLDER_ID, path: folder.root, index: folder.index, rescanMs: 200 })
    runner.start()
    await vi.waitFor(() => { expect(runner!.status().watching).toBe(true) }, EVENTUALLY)
    const away = `${folder.root}-away`
    await rename(folder.root, away)
    try {
      await vi.waitFor(() => { expect(runner!.status().watching).toBe(false) }, EVENTUALLY)
    } finally {
      await rename(away, folder.root)
    }
    await vi.waitFor(() => { expect(runner!.status().watching).toBe(true) }, EVENTUALLY)
    await folder.write('after.txt', 'back')
    await vi.waitFor(() => { expect(folder.local('after.txt')?.size).toBe(4) }, EVENTUALLY)
  })

  it('does not watch when asked not to, and stops watching on stop', async () => {
    runner = new FolderRunner({ id: FOLDER_ID, path: folder.root, index: folder.index, rescanMs: 3_600_000, watch: false })
    await runner.scanNow()
    expect(runner.status().watching).toBeUndefined()
    await runner.stop()

    const watched = await start()
    await watched.runner.stop()
    expect(watched.runner.status().watching).toBe(false)
  })
})
