import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ChunkUploader } from '../../src/backup/index.ts'
import type { BackupTarget } from '../../src/backup/index.ts'

// The uploader keeps a bounded number of batches out at once, sends every blob the target
// lacks exactly once, reports a failed put instead of finishing as if all were stored, and
// frees each blob's memory once the target has it (but not while a failed put may still hold it).

const CHUNK = 256 * 1024
/** 8 MiB batches of 256 KiB chunks. */
const PER_BATCH = 32

function blob (): { hash: Uint8Array, bytes: Uint8Array } {
  const bytes = randomBytes(CHUNK)
  return { hash: createHash('sha256').update(bytes).digest(), bytes }
}

/** A target that holds every put until released, and counts batches asked about. */
function heldTarget (): BackupTarget & { asked: number, stored: Set<string>, release(): void } {
  const held: Array<() => void> = []
  let released = false
  const target = {
    asked: 0,
    stored: new Set<string>(),
    lacks: async (hashes: readonly Uint8Array[]) => { target.asked++; return hashes.map(() => true) },
    put: async (hash: Uint8Array, bytes: Uint8Array) => {
      if (!released) await new Promise<void>(resolve => held.push(resolve))
      const key = Buffer.from(hash).toString('hex')
      if (target.stored.has(key)) throw new Error('stored twice')
      target.stored.add(key)
      return bytes.byteLength
    },
    release: () => { released = true; for (const go of held.splice(0)) go() }
  }
  return target
}

describe('ChunkUploader', () => {
  it('keeps at most four batches unanswered, then sends the rest once they are', async () => {
    const target = heldTarget()
    const uploader = new ChunkUploader(target)
    const blobs = Array.from({ length: PER_BATCH * 6 }, blob)
    let added = 0
    const adding = (async () => {
      for (const b of blobs) { await uploader.add(b.hash, b.bytes); added++ }
      await uploader.finish()
    })()
    await new Promise(resolve => setTimeout(resolve, 200))
    // Four batches out, the fifth filled and waiting for room: no more is read meanwhile.
    expect(target.asked).toBe(4)
    expect(added).toBeLessThan(PER_BATCH * 5)
    target.release()
    await adding
    expect(target.stored.size).toBe(blobs.length)
    expect(uploader.sentChunks).toBe(blobs.length)
    expect(uploader.sentBytes).toBe(blobs.length * CHUNK)
  })

  it('a put that fails is reported, not taken as stored', async () => {
    let puts = 0
    const target: BackupTarget = {
      lacks: async hashes => hashes.map(() => true),
      put: async (_, bytes) => { if (++puts === 3) throw new Error('disk full on the server'); return bytes.byteLength }
    }
    const uploader = new ChunkUploader(target)
    const run = (async () => {
      for (const b of Array.from({ length: PER_BATCH * 2 }, blob)) await uploader.add(b.hash, b.bytes)
      await uploader.finish()
    })()
    await expect(run).rejects.toThrow('disk full on the server')
  })

  it('frees each blob once the target has it, whether it was sent or already there', async () => {
    const kept = new Map<string, Buffer>()
    const target: BackupTarget = {
      // The target has every other blob already.
      lacks: async hashes => hashes.map((_, i) => i % 2 === 0),
      put: async (hash, bytes) => { kept.set(Buffer.from(hash).toString('hex'), Buffer.from(bytes)); return bytes.byteLength }
    }
    const uploader = new ChunkUploader(target)
    const blobs = Array.from({ length: PER_BATCH * 3 }, blob)
    const copies = blobs.map(b => Buffer.from(b.bytes))
    for (const b of blobs) await uploader.add(b.hash, b.bytes)
    await uploader.finish()
    expect(blobs.every(b => b.bytes.byteLength === 0)).toBe(true)
    // What was sent arrived whole before it was freed.
    expect(kept.size).toBe(blobs.length / 2)
    for (const [i, b] of blobs.entries()) {
      if (i % PER_BATCH % 2 === 0) expect(kept.get(Buffer.from(b.hash).toString('hex'))?.equals(copies[i]!)).toBe(true)
    }
  })

  it('does not free the bytes of a put that failed: they may still be on their way out', async () => {
    const target: BackupTarget = {
      lacks: async hashes => hashes.map(() => true),
      put: async () => { throw new Error('the stream broke') }
    }
    const uploader = new ChunkUploader(target)
    const blobs = Array.from({ length: 4 }, blob)
    for (const b of blobs) await uploader.add(b.hash, b.bytes)
    await expect(uploader.finish()).rejects.toThrow('the stream broke')
    expect(blobs.every(b => b.bytes.byteLength === CHUNK)).toBe(true)
  })
})
