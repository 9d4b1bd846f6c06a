import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findCutPoint, hashChunksOfBuffer, MAX_CHUNK_SIZE } from '../../src/chunking/index.ts'
import { chunksOfPieces, pseudoRandomBytes } from './fixtures.ts'

// Files arrive in pieces of any size (reads, network frames); the chunks must be the
// same however the bytes were split, or the same file would chunk differently twice.
describe('streaming', () => {
  it('findCutPoint on a prefix either asks for more data or gives the final answer', () => {
    const data = pseudoRandomBytes('prefix', 2 * 1024 * 1024)
    fc.assert(fc.property(fc.integer({ min: 0, max: data.length }), fc.integer({ min: 0, max: MAX_CHUNK_SIZE + 10 }), (start, want) => {
      const end = Math.min(data.length, start + want)
      const truth = findCutPoint(data, start, data.length, true)
      const partial = findCutPoint(data, start, end, false)
      if (partial === -1) expect(truth).toBeGreaterThanOrEqual(end - start)
      else expect(partial).toBe(truth)
      expect(findCutPoint(data, start, end, true)).toBe(partial === -1 ? end - start : partial)
    }), { numRuns: 300 })
  })

  it('chunkStream yields the whole-buffer chunks for any split points', async () => {
    // Larger than chunkStream's internal buffer, so tails are carried across refills.
    const data = pseudoRandomBytes('splits', 9 * 1024 * 1024 + 12345)
    const whole = hashChunksOfBuffer(data)
    await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: data.length }), { maxLength: 40 }), async (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), data.length]
      const pieces = points.slice(1).map((to, i) => data.subarray(points[i], to))
      expect(await chunksOfPieces(pieces)).toEqual(whole)
    }), { numRuns: 20 })
  })

  it('chunkStream yields the whole-buffer chunks for thousands of tiny pieces', async () => {
    const data = pseudoRandomBytes('tiny pieces', 5 * 1024 * 1024 + 3)
    const pieces: Uint8Array[] = []
    for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 3) % 4096 + 1) pieces.push(data.subarray(at, at + n))
    expect(await chunksOfPieces(pieces)).toEqual(hashChunksOfBuffer(data))
  })

  it('chunkStream yields the whole-buffer chunks whatever size it was told to expect (a file that grew or shrank)', async () => {
    const data = pseudoRandomBytes('expected size', 6 * 1024 * 1024 + 777)
    const whole = hashChunksOfBuffer(data)
    const pieces: Uint8Array[] = []
    for (let at = 0; at < data.length; at += 1024 * 1024) pieces.push(data.subarray(at, at + 1024 * 1024))
    for (const expected of [0, 1, 1000, 300 * 1024, data.length - 1, data.length, data.length + 1, 64 * 1024 * 1024]) {
      expect(await chunksOfPieces(pieces, expected)).toEqual(whole)
    }
    const small = data.subarray(0, 5000)
    expect(await chunksOfPieces([small], 4999)).toEqual(hashChunksOfBuffer(small))
  })

  it('chunkStream of nothing yields nothing', async () => {
    expect(await chunksOfPieces([])).toEqual([])
    expect(await chunksOfPieces([new Uint8Array(0), new Uint8Array(0)])).toEqual([])
  })
})
