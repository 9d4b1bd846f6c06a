import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CHUNK_ENTRY_BYTES, decodeChunks, encodeChunks } from '../../src/index/record-codec.ts'

const chunkRef = fc.record({ hash: fc.uint8Array({ minLength: 32, maxLength: 32 }), size: fc.integer({ min: 1, max: 0xffff_ffff }) })

describe('chunk list encoding', () => {
  it('packs each chunk into 36 bytes and reads back the same list', () => {
    fc.assert(fc.property(fc.array(chunkRef, { maxLength: 50 }), chunks => {
      const blob = encodeChunks(chunks)
      expect(blob.length).toBe(chunks.length * CHUNK_ENTRY_BYTES)
      expect(decodeChunks(blob).map(c => ({ hash: new Uint8Array(c.hash), size: c.size }))).toEqual(chunks)
    }))
  })

  it('writes the size as a big-endian u32 after the hash', () => {
    const blob = encodeChunks([{ hash: new Uint8Array(32).fill(7), size: 0x01020304 }])
    expect([...blob.subarray(32)]).toEqual([1, 2, 3, 4])
  })

  it('refuses a blob that is not whole entries', () => {
    expect(() => decodeChunks(new Uint8Array(35))).toThrow(RangeError)
  })
})
