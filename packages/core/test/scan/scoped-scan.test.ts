import { spawnSync } from 'node:child_process'
import { chmod, mkdir, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempFolder } from './fixtures.ts'

// A scan of a few paths (what a watcher saw change) records what changed there, the new
// directories above it and the deletions within it, and leaves the rest of the folder alone.
describe('a scoped scan', () => {
  const folder = useTempFolder()

  it('records a changed file with its new parent directories, and nothing outside its paths', async () => {
    await folder.write('outside.txt', 'one')
    await folder.scan()
    await folder.write('outside.txt', 'changed, not in scope')
    await folder.write('new/deep/file.txt', 'hello')
    await folder.write('new/sibling.txt', 'not in scope either')

    const result = await folder.scan({ paths: ['new/deep/file.txt'] })
    expect(result).toMatchObject({ scoped: true, changed: 3, deleted: 0, total: 4 })
    expect(folder.local('new')?.type).toBe('dir')
    expect(folder.local('new/deep')?.type).toBe('dir')
    expect(folder.local('new/deep/file.txt')?.size).toBe(5)
    expect(folder.local('new/sibling.txt')).toBeUndefined()
    expect(folder.local('outside.txt')?.size).toBe(3)
  })

  it('records only the changed file, not its unchanged parents, and counts the whole folder', async () => {
    await folder.write('docs/2026/notes.txt', 'one')
    await folder.write('docs/2026/other.txt', 'two')
    await folder.write('top.txt', 'three')
    await folder.scan()
    const parents = ['docs', 'docs/2026'].map(path => folder.local(path)?.sequence)
    await folder.write('docs/2026/notes.txt', 'one, edited')

    const result = await folder.scan({ paths: ['docs/2026/notes.txt'] })
    expect(result).toMatchObject({ scoped: true, changed: 1, deleted: 0, total: 5 })
    expect(['docs', 'docs/2026'].map(path => folder.local(path)?.sequence)).toEqual(parents)
    expect(folder.local('docs/2026/notes.txt')?.size).toBe(11)
  })

  it('records a directory with everything below it', async () => {
    await folder.scan()
    await folder.write('album/a.jpg')
    await folder.write('album/2026/b.jpg')
    await mkdir(join(folder.root, 'album/empty'))
    await folder.scan({ paths: ['album'] })
    for (const path of ['album', 'album/a.jpg', 'album/2026', 'album/2026/b.jpg', 'album/empty']) {
      expect([path, folder.local(path)?.deleted]).toEqual([path, false])
    }
  })

  it('records deletions within its paths only', async () => {
    for (const path of ['a/x', 'a/y', 'b/z', 'c/1', 'c/2', 'keep1', 'keep2', 'keep3', 'keep4', 'keep5']) await folder.write(path)
    await folder.scan()
    await rm(join(folder.root, 'a/x'))
    await rm(join(folder.root, 'b/z'))
    await rm(join(folder.root, 'c'), { recursive: true })

    const result = await folder.scan({ paths: ['a/x', 'c'] })
    expect(result).toMatchObject({ scoped: true, deleted: 4 })
    for (const path of ['a/x', 'c', 'c/1', 'c/2']) expect([path, folder.local(path)?.deleted]).toEqual([path, true])
    expect(folder.local('a/y')?.deleted).toBe(false)
    expect(folder.local('b/z')?.deleted).toBe(false)
  })

  it('brakes on a mass deletion counted against the whole folder', async () => {
    for (let i = 0; i < 12; i++) await folder.write(`big/f${i}`)
    for (let i = 0; i < 8; i++) await folder.write(`small/f${i}`)
    await folder.scan()
    await rm(join(folder.root, 'big'), { recursive: true })
    await rm(join(folder.root, 'small/f0'))

    const braked = await folder.scan({ paths: ['big', 'small/f0'] })
    expect(braked.brake).toBe('mass-deletion')
    expect(folder.local('big/f0')?.deleted).toBe(false)
    expect(folder.local('small/f0')?.deleted).toBe(false)
    // A few deletions of a folder this size are not suspicious.
    expect((await folder.scan({ paths: ['small/f0'] })).brake).toBeUndefined()
    expect(folder.local('small/f0')?.deleted).toBe(true)
  })

  it('counts the deletions earlier scoped scans recorded, so a mass deletion seen in batches still brakes', async () => {
    for (let i = 0; i < 20; i++) await folder.write(`f${i}`)
    await folder.scan()
    for (let i = 0; i < 12; i++) await rm(join(folder.root, `f${i}`))
    const first = await folder.scan({ paths: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'] })
    expect(first).toMatchObject({ deleted: 6 })
    expect(first.brake).toBeUndefined()
    const second = await folder.scan({ paths: ['f6', 'f7', 'f8', 'f9', 'f10', 'f11'], deletedBefore: first.deleted })
    expect(second.brake).toBe('mass-deletion')
    expect(folder.local('f6')?.deleted).toBe(false)
  })

  it('finds a name the disk spells decomposed from its NFC path, so it is not taken for deleted', async () => {
    await folder.write('cafe\u0301.txt', 'x')
    await folder.scan()
    await folder.write('cafe\u0301.txt', 'xyz')
    const result = await folder.scan({ paths: ['caf\u00e9.txt'] })
    expect(result.deleted).toBe(0)
    expect(folder.local('caf\u00e9.txt')).toMatchObject({ deleted: false, size: 3 })
  })

  it('never follows a symlink to reach a path', async () => {
    const outside = join(folder.dir, 'outside')
    await mkdir(outside)
    await symlink(outside, join(folder.root, 'link'))
    await folder.scan()
    await folder.write('../outside/secret', 'not in the folder')
    await folder.scan({ paths: ['link/secret'] })
    expect(folder.local('link')?.type).toBe('symlink')
    expect(folder.local('link/secret')).toBeUndefined()
  })

  it('records nothing for an ignored path and nothing for an empty list', async () => {
    await folder.write('.aerieignore', '*.tmp\n')
    await folder.scan()
    await folder.write('draft.tmp')
    await folder.write('other.txt')
    expect(await folder.scan({ paths: ['draft.tmp'] })).toMatchObject({ scoped: true, changed: 0 })
    expect(folder.local('draft.tmp')).toBeUndefined()
    expect(await folder.scan({ paths: [] })).toMatchObject({ scoped: true, changed: 0 })
    expect(folder.local('other.txt')).toBeUndefined()
    // '' is the folder root: all of it.
    expect(await folder.scan({ paths: [''] })).toMatchObject({ scoped: false, changed: 1 })
  })

  // Root reads any directory: the scan runs as another user (nobody) when the tests run as root.
  it('takes what is below a directory it cannot list for unknown, not deleted', async () => {
    const dir = join(folder.dir, 'as-user')
    await mkdir(dir)
    await chmod(folder.dir, 0o711)
    await chmod(dir, 0o777)
    const script = join(import.meta.dirname, 'support', 'unreadable-directory.ts')
    const asRoot = process.getuid?.() === 0
    const child = spawnSync(process.execPath, [script, dir], { encoding: 'utf8', timeout: 30_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) })
    expect(child.status, child.stderr).toBe(0)
    const outcome = JSON.parse(child.stdout) as { scans: Array<{ deleted: number, problems: number }>, stillThere: boolean }
    expect(outcome.scans).toHaveLength(3)
    for (const scan of outcome.scans) {
      expect(scan.deleted).toBe(0)
      expect(scan.problems).toBeGreaterThan(0)
    }
    expect(outcome.stillThere).toBe(true)
  })
})
