import { randomBytes } from 'node:crypto'
import { zstdCompressSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { compressIfItPays, decompress } from '../../src/store/chunk-compression.ts'
import { StoreDamagedError } from '../../src/errors.ts'

describe('chunk compression', () => {
  it('compresses text and gives it back byte for byte', () => {
    const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i}: the quick brown fox ${i * 7919 % 1000}\n`).join(''))
    const compressed = compressIfItPays(text)
    expect(compressed).toBeDefined()
    expect(compressed!.byteLength).toBeLessThan(text.byteLength / 4)
    expect(decompress(compressed!, text.byteLength)).toEqual(text)
  })

  it('leaves random bytes, tiny chunks and what would save less than an eighth as they are', () => {
    expect(compressIfItPays(randomBytes(64 * 1024))).toBeUndefined()
    expect(compressIfItPays(Buffer.alloc(100))).toBeUndefined()
    // Low byte entropy in its middle, random elsewhere: compression is tried and does not pay.
    const mostlyRandom = Buffer.concat([randomBytes(30_000), Buffer.alloc(4096, 'a'), randomBytes(30_000)])
    expect(compressIfItPays(mostlyRandom)).toBeUndefined()
  })

  it('refuses a frame that does not decompress to the recorded size, without growing past it', () => {
    const zeros = Buffer.alloc(1024 * 1024)
    const frame = zstdCompressSync(zeros)
    expect(() => decompress(frame, 1000)).toThrow(StoreDamagedError)
    expect(() => decompress(frame, 2 * 1024 * 1024)).toThrow(StoreDamagedError)
    expect(() => decompress(Buffer.from('not zstd at all'), 100)).toThrow(StoreDamagedError)
    expect(decompress(frame, zeros.byteLength)).toEqual(zeros)
  })
})
