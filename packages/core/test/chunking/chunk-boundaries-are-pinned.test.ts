import { describe, expect, it } from 'vitest'
import { findCutPoint, hashChunksOfBuffer } from '../../src/chunking/index.ts'
import { pseudoRandomBytes } from './fixtures.ts'

// Boundaries are part of the on-disk and wire format: devices and versions dedupe only
// if everyone cuts the same bytes at the same places, forever. If this test fails, the
// gear table, a mask or a size changed: that is a format break, not a test to update.
const PINNED_SIZES = [
  81033, 20318, 79743, 69897, 46986, 69882, 107277, 107764, 78020, 83985, 46562, 49243,
  69311, 69609, 22765, 70281, 20461, 74689, 102260, 111553, 68828, 80370, 67241, 82017,
  119422, 89524, 88694, 67050, 72504, 52700, 65839, 46171, 72143, 80693, 78246, 27836,
  65196, 57557, 24908, 88208, 69603, 66129, 73601, 75447, 74455, 65554, 96241, 86792,
  70188, 117038, 75182, 67153, 75584, 87709, 85099, 70009, 71695, 50657, 39382
]

describe('chunk boundaries', () => {
  const data = pseudoRandomBytes('aerie chunk boundaries v1', 4 * 1024 * 1024)

  it('are exactly the pinned ones for a fixed pseudo-random input', () => {
    const chunks = hashChunksOfBuffer(data)
    expect(chunks.map(c => c.size)).toEqual(PINNED_SIZES)
    expect(Buffer.from(chunks[0]!.hash).toString('hex')).toBe('939a65a8009e5acba2ddc97b299ee1d55672b6468c618a87cac7a090d25e1192')
  })

  it('do not depend on where the chunk sits in the buffer', () => {
    const padded = Buffer.concat([Buffer.alloc(12345, 7), data])
    let pos = 12345
    const sizes: number[] = []
    for (let n = 0; n < PINNED_SIZES.length; n++) {
      const size = findCutPoint(padded, pos, padded.length, true)
      sizes.push(size)
      pos += size
    }
    expect(sizes).toEqual(PINNED_SIZES)
  })
})
