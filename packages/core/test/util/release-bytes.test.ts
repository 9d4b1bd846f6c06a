import { describe, expect, it } from 'vitest'
import { ownBytes, releaseBytes } from '../../src/util/release-bytes.ts'

// releaseBytes frees a buffer that is the whole of its memory, and never touches memory that
// other views may share.

describe('releaseBytes', () => {
  it('frees a buffer that is the whole of its memory: every view of it reads as empty', () => {
    const bytes = Buffer.alloc(64 * 1024, 7)
    const view = bytes.subarray(10, 20)
    releaseBytes(bytes)
    expect(bytes.buffer.detached).toBe(true)
    expect(bytes.byteLength).toBe(0)
    expect(view.byteLength).toBe(0)
    releaseBytes(bytes) // twice is harmless
  })

  it('leaves alone a part of a larger buffer, a slice of Node\'s shared pool, and shared memory', () => {
    const larger = Buffer.alloc(64 * 1024, 1)
    const part = larger.subarray(0, 1024)
    releaseBytes(part)
    expect(larger.byteLength).toBe(64 * 1024)
    expect(part[0]).toBe(1)

    const pooled = Buffer.from('small strings share one pool')
    const neighbour = Buffer.from('and so does this one')
    expect(pooled.buffer).toBe(neighbour.buffer)
    releaseBytes(pooled)
    expect(neighbour.toString()).toBe('and so does this one')

    const shared = new Uint8Array(new SharedArrayBuffer(16 * 1024))
    releaseBytes(shared)
    expect(shared.byteLength).toBe(16 * 1024)
  })

  it('ownBytes copies a part of what it arrived in, so that freeing the copy leaves the rest alone', () => {
    const arrived = Buffer.alloc(64 * 1024, 3)
    arrived[100] = 9
    const part = arrived.subarray(100, 4196)
    const own = ownBytes(part)
    expect(own.buffer).not.toBe(arrived.buffer)
    expect(own.byteLength).toBe(4096)
    expect(own.buffer.byteLength).toBe(4096)
    expect(own[0]).toBe(9)
    releaseBytes(own)
    expect(own.byteLength).toBe(0)
    expect(arrived.byteLength).toBe(64 * 1024)
    // A buffer that is the whole of its memory already is given back as it is.
    const whole = new Uint8Array(1024)
    expect(ownBytes(whole)).toBe(whole)
  })
})
