import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError, NotConfiguredError } from '../../src/errors.ts'
import { compareVersions, openFolderIndex } from '../../src/index/index.ts'
import type { FolderIndex } from '../../src/index/index.ts'
import { DEVICE_A, DEVICE_B, file, tempIndexes, tombstone } from './fixtures.ts'

describe('local records', () => {
  let temp: ReturnType<typeof tempIndexes>
  let index: FolderIndex

  beforeEach(() => {
    temp = tempIndexes()
    index = temp.open(DEVICE_A)
  })

  afterEach(() => temp.cleanup())

  it('gives every local change the next sequence number, also after a restart', () => {
    const first = index.updateLocal('docs', [file('a'), file('b')])
    expect(first.map(r => r.sequence)).toEqual([1, 2])
    expect(index.updateLocal('docs', [file('a', ['changed'])]).map(r => r.sequence)).toEqual([3])
    expect(index.localSequence('docs')).toBe(3)

    index.close()
    index = temp.open(DEVICE_A)
    expect(index.localSequence('docs')).toBe(3)
    expect(index.updateLocal('docs', [file('c')]).map(r => r.sequence)).toEqual([4])
    expect(index.getLocal('docs', 'a')?.sequence).toBe(3)
  })

  it('counts each folder on its own', () => {
    index.updateLocal('docs', [file('a'), file('b')])
    expect(index.updateLocal('photos', [file('a')])[0]?.sequence).toBe(1)
    expect(index.localSequence('photos')).toBe(1)
    expect(index.localSequence('unknown')).toBe(0)
  })

  it('treats an unchanged file as no change: no new sequence, no new version', () => {
    const [before] = index.updateLocal('docs', [{ ...file('a'), mode: 0o100644, inode: 12 }])
    expect(index.updateLocal('docs', [{ ...file('a'), mode: 0o644, inode: 34 }])).toEqual([])
    expect(index.localSequence('docs')).toBe(1)
    const after = index.getLocal('docs', 'a')
    expect(after).toEqual({ ...before, inode: 34 })
    expect(after?.mode).toBe(0o644)
    index.updateLocal('docs', [file('b'), { ...file('c'), inode: 56 }])
    const inodes = new Map([...index.localStats('docs')].filter(([, stat]) => stat.inode !== undefined).map(([path, stat]) => [path, stat.inode]))
    expect(inodes).toEqual(new Map([['a', 34], ['c', 56]]))
    expect(index.localStats('docs').get('b')).toEqual({ type: 'file', size: file('b').size, mtimeMs: file('b').mtimeMs, mode: file('b').mode & 0o777 })
  })

  it('bumps the version from the previous one and names this device', () => {
    const [v1] = index.updateLocal('docs', [file('a')])
    const [v2] = index.updateLocal('docs', [file('a', ['more'])])
    expect(v1?.modifiedBy).toBe(DEVICE_A)
    expect(compareVersions(v2!.version, v1!.version)).toBe('newer')
    expect(Object.keys(v2!.version)).toEqual([DEVICE_A])
  })

  it('keeps a deletion as a tombstone that is announced once', () => {
    index.updateLocal('docs', [file('a'), file('b')])
    const [gone] = index.updateLocal('docs', [tombstone('a')])
    expect(gone).toMatchObject({ path: 'a', deleted: true, size: 0, chunks: [], sequence: 3 })
    expect(index.updateLocal('docs', [tombstone('a', 1)])).toEqual([])
    expect(index.getLocal('docs', 'a')?.deleted).toBe(true)
    expect([...index.localFiles('docs')].map(r => [r.path, r.deleted])).toEqual([['a', true], ['b', false]])
    // Coming back is a change like any other.
    expect(index.updateLocal('docs', [file('a')])[0]).toMatchObject({ deleted: false, sequence: 4 })
  })

  it('stores directories and symlinks without size or chunks', () => {
    index.updateLocal('docs', [
      { path: 'dir', type: 'dir', size: 4096, mtimeMs: 1, mode: 0o40755, deleted: false, chunks: [] },
      { path: 'dir/link', type: 'symlink', size: 3, mtimeMs: 1, mode: 0o777, deleted: false, chunks: [], target: '../x' }
    ])
    expect(index.getLocal('docs', 'dir')).toMatchObject({ type: 'dir', size: 0, mode: 0o755 })
    expect(index.getLocal('docs', 'dir/link')).toMatchObject({ type: 'symlink', size: 0, target: '../x' })
    expect(() => index.updateLocal('docs', [{ path: 'l2', type: 'symlink', size: 0, mtimeMs: 1, mode: 0, deleted: false, chunks: [] }]))
      .toThrow(InvalidInputError)
  })

  it('refuses a file whose chunks do not add up to its size', () => {
    expect(() => index.updateLocal('docs', [{ ...file('a'), size: 999 }])).toThrow(/add up to/)
    expect(() => index.updateLocal('docs', [{ ...file('a'), chunks: [{ hash: new Uint8Array(31), size: 1 }], size: 1 }])).toThrow(/32 bytes/)
  })

  it('pages through changes with localSince in sequence order', () => {
    index.updateLocal('docs', Array.from({ length: 25 }, (_, i) => file(`f${String(i).padStart(2, '0')}`)))
    index.updateLocal('docs', [file('f03', ['edited'])])
    const pages: number[][] = []
    let after = 0
    for (;;) {
      const page = index.localSince('docs', after, 10)
      if (page.length === 0) break
      pages.push(page.map(r => r.sequence))
      after = page.at(-1)!.sequence
    }
    expect(pages.map(p => p.length)).toEqual([10, 10, 5])
    expect(pages.flat()).toEqual(pages.flat().toSorted((x, y) => x - y))
    // f03 moved to the end: only its newest version is announced.
    expect(pages.flat()).not.toContain(4)
    expect(index.localSince('docs', 25, 10).map(r => r.path)).toEqual(['f03'])
    expect(index.localSince('docs', 26, 10)).toEqual([])
  })

  it('can be open in two processes\' connections at once (WAL)', () => {
    using other = openFolderIndex(join(temp.dir, `${DEVICE_A}.sqlite`), DEVICE_A)
    index.updateLocal('docs', [file('a')])
    expect(other.getLocal('docs', 'a')?.sequence).toBe(1)
    expect(other.updateLocal('docs', [file('b')])[0]?.sequence).toBe(2)
    expect(index.localSequence('docs')).toBe(2)
  })

  it('belongs to one device', () => {
    index.close()
    expect(() => openFolderIndex(join(temp.dir, `${DEVICE_A}.sqlite`), DEVICE_B)).toThrow(NotConfiguredError)
  })

  it('forgets a removed folder but never reuses its sequence numbers', () => {
    index.updateLocal('docs', [file('a'), file('b')])
    index.removeFolder('docs')
    expect([...index.localFiles('docs')]).toEqual([])
    expect(index.getLocal('docs', 'a')).toBeUndefined()
    expect(index.updateLocal('docs', [file('a')])[0]?.sequence).toBe(3)
  })
})
