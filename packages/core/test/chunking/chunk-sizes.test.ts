import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AVG_CHUNK_SIZE, hashChunksOfBuffer, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../src/chunking/index.ts'
import type { Chunk } from '../../src/chunking/index.ts'

function expectWithinBounds (chunks: Chunk[], total: number): void {
  let offset = 0
  for (const [i, chunk] of chunks.entries()) {
    expect(chunk.offset).toBe(offset)
    expect(chunk.size).toBeLessThanOrEqual(MAX_CHUNK_SIZE)
    if (i < chunks.length - 1) expect(chunk.size).toBeGreaterThanOrEqual(MIN_CHUNK_SIZE)
    else expect(chunk.size).toBeGreaterThan(0)
    offset += chunk.size
  }
  expect(offset).toBe(total)
}

describe('chunk sizes', () => {
  it('stay within [min, max], the last chunk only within (0, max], and cover every byte', () => {
    for (const size of [MIN_CHUNK_SIZE + 1, MAX_CHUNK_SIZE + 1, 5 * 1024 * 1024 + 17]) {
      const data = randomBytes(size)
      expectWithinBounds(hashChunksOfBuffer(data), size)
    }
  })

  it('average about 64 KiB on random data', () => {
    const data = randomBytes(64 * 1024 * 1024)
    const chunks = hashChunksOfBuffer(data)
    expectWithinBounds(chunks, data.length)
    const mean = data.length / chunks.length
    expect(mean).toBeGreaterThan(30 * 1024)
    expect(mean).toBeLessThan(110 * 1024)
    // Normalised chunking keeps most chunks near the average, few at the extremes.
    const near = chunks.filter(c => c.size >= AVG_CHUNK_SIZE / 2 && c.size <= AVG_CHUNK_SIZE * 2).length
    expect(near / chunks.length).toBeGreaterThan(0.7)
  })

  it('are cut at the maximum size in data where no cut point is found', () => {
    // Zeros keep the rolling hash constant, and for this gear table it never matches a mask.
    const chunks = hashChunksOfBuffer(new Uint8Array(3 * MAX_CHUNK_SIZE + 5))
    expect(chunks.map(c => c.size)).toEqual([MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, 5])
    expect(chunks[0]!.hash).toEqual(chunks[1]!.hash)
  })
})
