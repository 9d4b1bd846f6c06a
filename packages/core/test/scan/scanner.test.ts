import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openFolderIndex } from '../../src/index/index.ts'
import { scanFolder, writeFolderMarker } from '../../src/scan/index.ts'
import type { FolderIndex } from '../../src/index/index.ts'

// The scanner turns what is on disk into index records, hashes only what changed, and
// never records a mass disappearance it cannot explain.
describe('scanner', () => {
  let dir: string
  let root: string
  let index: FolderIndex

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-scan-'))
    root = join(dir, 'folder')
    await mkdir(root)
    await writeFolderMarker(root, 'f1')
    index = openFolderIndex(join(dir, 'index.db'), 'devicea')
  })
  afterEach(async () => {
    index.close()
    await rm(dir, { recursive: true, force: true })
  })

  const scan = async (extra = {}) => await scanFolder({ folderId: 'f1', root, index, ...extra })
  const local = (path: string) => index.getLocal('f1', path)

  it('records files, empty directories, symlinks, sizes and the executable bit', async () => {
    await mkdir(join(root, 'empty'))
    await mkdir(join(root, 'a/b'), { recursive: true })
    await writeFile(join(root, 'a/b/data.bin'), randomBytes(300_000))
    await writeFile(join(root, 'zero'), '')
    await writeFile(join(root, 'run.sh'), '#!/bin/sh\n')
    await chmod(join(root, 'run.sh'), 0o755)
    await symlink('/etc/passwd', join(root, 'outside'))

    const result = await scan()
    expect(result.brake).toBeUndefined()
    expect(local('empty')?.type).toBe('dir')
    expect(local('a/b/data.bin')?.size).toBe(300_000)
    expect(local('a/b/data.bin')?.chunks.reduce((n, c) => n + c.size, 0)).toBe(300_000)
    expect(local('zero')?.chunks).toEqual([])
    expect(local('run.sh')?.mode).toBe(0o755)
    // A symlink is recorded as what it says, never followed out of the folder.
    expect(local('outside')).toMatchObject({ type: 'symlink', target: '/etc/passwd', size: 0 })
    expect(local('.aerie-folder')).toBeUndefined()
  })

  it('a rescan with nothing changed hashes nothing and records nothing', async () => {
    for (let i = 0; i < 50; i++) await writeFile(join(root, `f${i}`), randomBytes(1000))
    await scan()
    const sequence = index.localSequence('f1')
    const again = await scan()
    expect(again).toMatchObject({ files: 50, hashedBytes: 0, changed: 0 })
    expect(index.localSequence('f1')).toBe(sequence)
  })

  it('records a modification and a deletion as new versions', async () => {
    await writeFile(join(root, 'doc'), 'one')
    await writeFile(join(root, 'gone'), 'bye')
    await scan()
    const first = local('doc')!
    await writeFile(join(root, 'doc'), 'two, longer')
    await rm(join(root, 'gone'))
    const result = await scan()
    expect(result).toMatchObject({ changed: 2, deleted: 1 })
    expect(local('doc')!.size).toBe(11)
    expect(local('doc')!.sequence).toBeGreaterThan(first.sequence)
    expect(local('gone')).toMatchObject({ deleted: true })
  })

  it('notices a change that keeps size and mtime when the inode changes (an atomic save)', async () => {
    await writeFile(join(root, 'doc'), 'aaaa')
    await utimes(join(root, 'doc'), 1_700_000_000, 1_700_000_000)
    await scan()
    await writeFile(join(root, 'doc.new'), 'bbbb')
    await utimes(join(root, 'doc.new'), 1_700_000_000, 1_700_000_000)
    await rename(join(root, 'doc.new'), join(root, 'doc'))
    await scan()
    expect(local('doc')!.chunks).not.toEqual([])
    const again = await scanFolder({ folderId: 'f1', root, index })
    expect(again.hashedBytes).toBe(0)
  })

  it('records a name in NFC even when the disk spells it decomposed', async () => {
    await writeFile(join(root, 'cafe\u0301.txt'), 'x')
    await scan()
    expect(local('caf\u00e9.txt')?.size).toBe(1)
  })

  it('records nothing when most files vanish at once, until the user confirms', async () => {
    for (let i = 0; i < 20; i++) await writeFile(join(root, `f${i}`), `${i}`)
    await scan()
    for (let i = 0; i < 15; i++) await rm(join(root, `f${i}`))
    const braked = await scan()
    expect(braked.brake).toBe('mass-deletion')
    expect(local('f0')?.deleted).toBe(false)
    const confirmed = await scan({ confirmDeletions: true })
    expect(confirmed.brake).toBeUndefined()
    expect(local('f0')?.deleted).toBe(true)
  })

  it('records changes in batches as it walks once a brake is ruled out, and none of the thousands it saw when one applies', async () => {
    const files = 3000
    await mkdir(join(root, 'd'))
    for (let i = 0; i < files; i++) await writeFile(join(root, `d/f${i}`), `${i}`)
    // A first scan cannot brake: what it walked is in the index before the walk ends.
    let recordedWhileWalking = false
    const first = await scan({ onProgress: () => { recordedWhileWalking ||= index.getLocal('f1', 'd/f0') !== undefined } })
    expect(recordedWhileWalking).toBe(true)
    expect(first.changed).toBe(files + 1)
    expect(index.getLocal('f1', 'd/f2999')?.size).toBe(4)
    // Gone: 1700 of 3000 (more than half); edited: the 1300 left.
    for (let i = 0; i < 1700; i++) await rm(join(root, `d/f${i}`))
    for (let i = 1700; i < files; i++) await writeFile(join(root, `d/f${i}`), `edited ${i}`)
    const braked = await scan()
    expect(braked.brake).toBe('mass-deletion')
    expect(index.getLocal('f1', 'd/f2999')?.size).toBe(4)
    expect(index.getLocal('f1', 'd/f0')?.deleted).toBe(false)
    const confirmed = await scan({ confirmDeletions: true })
    expect(confirmed.changed).toBe(files)
    expect(index.getLocal('f1', 'd/f2999')?.size).toBe('edited 2999'.length)
  })

  it('records nothing when the folder marker is gone (an empty mount point)', async () => {
    await writeFile(join(root, 'keep'), 'x')
    await scan()
    await rm(join(root, 'keep'))
    await rm(join(root, '.aerie-folder'))
    expect((await scan()).brake).toBe('marker-missing')
    expect(local('keep')?.deleted).toBe(false)
  })

  it('records nothing when the folder root is missing', async () => {
    await writeFile(join(root, 'keep'), 'x')
    await scan()
    await rm(root, { recursive: true })
    expect((await scan()).brake).toBe('root-missing')
    expect(local('keep')?.deleted).toBe(false)
  })
})
