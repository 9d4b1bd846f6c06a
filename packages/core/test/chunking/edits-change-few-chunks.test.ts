import { describe, expect, it } from 'vitest'
import { hashChunksOfBuffer } from '../../src/chunking/index.ts'
import { hex, pseudoRandomBytes } from './fixtures.ts'
import type { Chunk } from '../../src/chunking/index.ts'

/** Chunks of `after` whose ids `before` does not have: what a peer would have to pull. */
function newChunks (before: Chunk[], after: Chunk[]): Chunk[] {
  const known = new Set(hex(before))
  return after.filter(c => !known.has(Buffer.from(c.hash).toString('hex')))
}

// Content-defined chunking is why an edit costs a few chunks, not the rest of the file.
describe('edits', () => {
  const data = pseudoRandomBytes('edits', 32 * 1024 * 1024)
  const before = hashChunksOfBuffer(data)

  it('inserting 10 bytes at the start changes at most 3 chunks and under 1 MiB', () => {
    const after = hashChunksOfBuffer(Buffer.concat([Buffer.from('0123456789'), data]))
    const changed = newChunks(before, after)
    expect(changed.length).toBeLessThanOrEqual(3)
    expect(changed.reduce((n, c) => n + c.size, 0)).toBeLessThan(1024 * 1024)
  })

  it('inserting or deleting bytes in the middle changes only the chunks around the edit', () => {
    const middle = 16 * 1024 * 1024 + 777
    for (const edited of [
      Buffer.concat([data.subarray(0, middle), Buffer.from('a few inserted bytes'), data.subarray(middle)]),
      Buffer.concat([data.subarray(0, middle), data.subarray(middle + 1000)])
    ]) {
      const changed = newChunks(before, hashChunksOfBuffer(edited))
      expect(changed.length).toBeLessThanOrEqual(3)
      expect(changed.reduce((n, c) => n + c.size, 0)).toBeLessThan(1024 * 1024)
    }
  })

  it('the same content at different offsets in two files gives the same chunk ids after the first boundary', () => {
    const shared = data.subarray(0, 8 * 1024 * 1024)
    const a = hashChunksOfBuffer(Buffer.concat([pseudoRandomBytes('prefix a', 100_000), shared]))
    const b = hashChunksOfBuffer(Buffer.concat([pseudoRandomBytes('prefix b', 37), shared]))
    // Only b's chunks that hold (part of) its prefix may be new.
    expect(newChunks(a, b).length).toBeLessThanOrEqual(2)
    expect(hex(b).slice(-50)).toEqual(hex(a).slice(-50))
  })
})
