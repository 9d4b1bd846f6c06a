import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { watchFolder } from '../../src/scan/index.ts'
import { EVENTUALLY, useTempFolder } from './fixtures.ts'
import type { FolderWatcher, WatchFolderOptions } from '../../src/scan/index.ts'

// The watcher only says where to look: batches of relative NFC paths, each once, and never
// what the ignore rules hide.
// Both ways of watching run here: a watch per directory (Linux's) and one over the whole tree
// (macOS's and Windows's, which Node also offers on Linux).
describe.each([{ mode: 'a watch per directory', recursive: false }, { mode: 'one recursive watch', recursive: true }])('watchFolder, $mode', ({ recursive }) => {
  const folder = useTempFolder()
  let watcher: FolderWatcher | undefined
  afterEach(async () => { await watcher?.close() })

  const start = async (options: Partial<WatchFolderOptions> = {}) => {
    const batches: string[][] = []
    const errors: Error[] = []
    watcher = watchFolder({
      root: folder.root,
      ignore: () => false,
      onChanges: (paths) => { batches.push(paths) },
      onError: (err) => { errors.push(err) },
      recursive,
      ...options
    })
    await watcher.ready
    return { batches, errors, seen: () => new Set(batches.flat()) }
  }

  it('reports created, modified, deleted and renamed paths as relative NFC paths, each once per batch', async () => {
    await folder.write('old.txt')
    const { batches, seen } = await start()
    await folder.write('dir/cafe\u0301.txt', 'one')
    await folder.write('dir/cafe\u0301.txt', 'two')
    await rename(join(folder.root, 'old.txt'), join(folder.root, 'new.txt'))
    await vi.waitFor(() => { expect([...seen()]).toEqual(expect.arrayContaining(['dir', 'dir/caf\u00e9.txt', 'old.txt', 'new.txt'])) }, EVENTUALLY)
    for (const batch of batches) expect(new Set(batch).size).toBe(batch.length)
    await rm(join(folder.root, 'dir'), { recursive: true })
    const before = batches.length
    await vi.waitFor(() => { expect(batches.slice(before).flat()).toEqual(expect.arrayContaining(['dir'])) }, EVENTUALLY)
  })

  it('does not report ignored paths, nor anything in an ignored directory', async () => {
    const { seen } = await start({ ignore: (path, isDir) => path.endsWith('.tmp') || (isDir && path === 'cache') })
    await folder.write('cache/a.bin')
    await folder.write('draft.tmp')
    await folder.write('done.txt')
    await vi.waitFor(() => { expect(seen().has('done.txt')).toBe(true) }, EVENTUALLY)
    expect([...seen()].filter(path => path.startsWith('cache') || path.endsWith('.tmp'))).toEqual([])
  })

  it('reports a batch within its longest delay while events keep coming', async () => {
    const { batches } = await start({ debounceMs: 200, maxDelayMs: 500 })
    // An event every 20 ms never leaves the 200 ms of quiet a batch waits for.
    const deadline = performance.now() + EVENTUALLY.timeout
    let i = 0
    while (batches.length === 0 && performance.now() < deadline) {
      await writeFile(join(folder.root, 'busy.log'), String(i++))
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect(batches.length).toBeGreaterThan(0)
    expect(batches[0]).toEqual(['busy.log'])
  })

  it('reports an error of its listener instead of throwing it from a timer, and closes once however often asked', async () => {
    const { errors } = await start({ onChanges: () => { throw new Error('listener failed') } })
    await folder.write('a.txt')
    await vi.waitFor(() => { expect(errors.map(e => e.message)).toContain('listener failed') }, EVENTUALLY)
    await watcher![Symbol.asyncDispose]()
    await watcher!.close()
  })

  it('watches a directory that appears, with what is below it, and one that is moved in', async () => {
    const { batches, seen } = await start()
    await folder.write('made/deep/first.txt')
    await vi.waitFor(() => { expect(seen().has('made')).toBe(true) }, EVENTUALLY)
    // Written once the new directory was reported (its watches began as it appeared): reported by path.
    await folder.write('made/deep/later.txt')
    await vi.waitFor(() => { expect(seen().has('made/deep/later.txt')).toBe(true) }, EVENTUALLY)
    const outside = join(folder.root, '..', `outside-${process.pid}-${String(recursive)}`)
    await mkdir(join(outside, 'sub'), { recursive: true })
    await rename(outside, join(folder.root, 'moved'))
    await vi.waitFor(() => { expect(seen().has('moved')).toBe(true) }, EVENTUALLY)
    await writeFile(join(folder.root, 'moved/sub/inside.txt'), 'inside')
    await vi.waitFor(() => { expect(seen().has('moved/sub/inside.txt')).toBe(true) }, EVENTUALLY)
    for (const batch of batches) expect(new Set(batch).size).toBe(batch.length)
  })

  it('goes on watching a directory deleted and made again under the same name', async () => {
    await folder.write('again/one.txt')
    const { batches } = await start()
    await rm(join(folder.root, 'again'), { recursive: true })
    await vi.waitFor(() => { expect(batches.flat()).toContain('again') }, EVENTUALLY)
    const before = batches.length
    await folder.write('again/two.txt')
    await vi.waitFor(() => { expect(batches.length).toBeGreaterThan(before) }, EVENTUALLY)
    await folder.write('again/three.txt')
    await vi.waitFor(() => { expect(batches.flat()).toContain('again/three.txt') }, EVENTUALLY)
  })

  it('says it no longer watches once the folder itself is moved away', async () => {
    const { batches } = await start()
    expect(watcher!.watching).toBe(true)
    const away = `${folder.root}-away`
    await rename(folder.root, away)
    try {
      expect(watcher!.watching).toBe(false)
      // A watch per directory hears its root go (one over the tree may not: the runner's rescans then find it).
      if (!recursive) await vi.waitFor(() => { expect(batches.flat()).toContain('') }, EVENTUALLY)
    } finally {
      await rename(away, folder.root)
    }
  })

  it('tells an event about a directory itself from one about a child of the same name', async () => {
    await mkdir(join(folder.root, 'same'))
    const { seen } = await start()
    // Node's recursive watch on Linux (an emulation) does not report a directory's new mode.
    if (!recursive) {
      await chmod(join(folder.root, 'same'), 0o700)
      await vi.waitFor(() => { expect(seen().has('same')).toBe(true) }, EVENTUALLY)
      expect(seen().has('same/same')).toBe(false)
    }
    await folder.write('same/same', 'a child')
    await vi.waitFor(() => { expect(seen().has('same/same')).toBe(true) }, EVENTUALLY)
  })
})
