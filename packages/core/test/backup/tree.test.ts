import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { chunkListsOf, decodeTree, encodeTree, fileChunks, INLINE_CHUNKS, LIST_CHUNKS } from '../../src/backup/index.ts'
import { chunkId } from '../../src/chunking/index.ts'
import type { TreeEntry } from '../../src/backup/index.ts'

// Directory objects: canonical (equal directories, equal ids), strict on what they accept.

const chunk = (n: number): { hash: Uint8Array, size: number } => ({ hash: Uint8Array.from(chunkId(Buffer.from(String(n)))), size: 1000 + n })

describe('directory objects', () => {
  it('are canonical: the same entries in any order give the same id, and decode back', () => {
    const entries: TreeEntry[] = [
      { name: 'b.txt', type: 'file', mode: 0o644, mtimeMs: 1.5, size: 2001, chunks: [chunk(1), chunk(2)] },
      { name: 'a', type: 'dir', mode: 0o755, mtimeMs: 2, size: 0, tree: chunkId(Buffer.from('x')) },
      { name: 'l', type: 'symlink', mode: 0o777, mtimeMs: 3, size: 0, target: '../elsewhere' }
    ]
    const one = encodeTree(entries)
    const two = encodeTree([...entries].reverse())
    expect(Buffer.from(one.id).equals(two.id)).toBe(true)
    expect(decodeTree(one.bytes).map(e => e.name)).toEqual(['a', 'b.txt', 'l'])
    expect(decodeTree(one.bytes)[1]).toEqual(entries[0])
  })

  it('refuse names that would escape a restore, repeated names and unknown types', () => {
    for (const name of ['..', '.', 'a/b', '', 'x\0y']) {
      const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, entries: [{ name, type: 'symlink', mode: 0, mtimeMs: 0, size: 0, target: 'x' }] }))
      expect(() => decodeTree(bytes), name).toThrow(/bad directory object/)
    }
    const twice = { name: 'a', type: 'symlink', mode: 0, mtimeMs: 0, size: 0, target: 'x' }
    expect(() => decodeTree(new TextEncoder().encode(JSON.stringify({ v: 1, entries: [twice, twice] })))).toThrow(/repeated/)
    expect(() => decodeTree(new TextEncoder().encode(JSON.stringify({ v: 1, entries: [{ ...twice, type: 'fifo' }] })))).toThrow(/type/)
    expect(() => decodeTree(randomBytes(50))).toThrow(/bad directory object/)
  })

  it('keep a large file\'s chunk list in list blobs, read back in order', async () => {
    const chunks = Array.from({ length: LIST_CHUNKS + 10 }, (_, i) => chunk(i))
    expect('chunks' in chunkListsOf(chunks.slice(0, INLINE_CHUNKS))).toBe(true)
    const held = chunkListsOf(chunks)
    if ('chunks' in held) throw new Error('expected lists')
    expect(held.lists).toHaveLength(2)
    const blobs = new Map(held.lists.map(l => [Buffer.from(l.id).toString('hex'), l.bytes]))
    const entry: TreeEntry = { name: 'f', type: 'file', mode: 0o644, mtimeMs: 0, size: 0, lists: held.lists.map(l => l.id) }
    const back = await fileChunks({ get: async id => blobs.get(Buffer.from(id).toString('hex')) }, decodeTree(encodeTree([entry]).bytes)[0]!)
    expect(back.map(c => c.size)).toEqual(chunks.map(c => c.size))
  })
})
