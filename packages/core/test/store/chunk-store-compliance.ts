import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chunkId, chunkIdHex } from '../../src/chunking/chunk-id.ts'
import { InvalidInputError } from '../../src/errors.ts'
import { decompress } from '../../src/store/index.ts'
import type { ChunkStore } from '../../src/store/index.ts'

/** One store under test: how to open it again once closed, and how to remove it afterwards. */
export interface ChunkStoreUnderTest {
  store: ChunkStore
  reopen(): Promise<ChunkStore>
  destroy(): Promise<void>
}

export interface TestChunk {
  hash: Uint8Array
  bytes: Buffer
}

export function randomChunk (size: number): TestChunk {
  const bytes = randomBytes(size)
  return { hash: chunkId(bytes), bytes }
}

/** A chunk of words and numbers: it compresses well, so a store may keep it compressed. */
export function textChunk (size: number): TestChunk {
  const words = ['chunk', 'pack', 'store', 'seal', 'index', 'the', 'of', 'a']
  let text = ''
  while (text.length < size) text += `${words[Math.floor(Math.random() * words.length)]} ${Math.floor(Math.random() * 1000)} `
  const bytes = Buffer.from(text.slice(0, size))
  return { hash: chunkId(bytes), bytes }
}

/**
 * What every ChunkStore must do, whatever keeps the bytes (local packs today, S3 later):
 * `describeChunkStore('pack store', async () => ...)` in each implementation's test file.
 */
export function describeChunkStore (name: string, create: () => Promise<ChunkStoreUnderTest>): void {
  describe(`${name} (ChunkStore compliance)`, () => {
    let subject: ChunkStoreUnderTest
    let store: ChunkStore

    beforeEach(async () => {
      subject = await create()
      store = subject.store
    })

    afterEach(async () => {
      await store.close()
      await subject.destroy()
    })

    it('gives back every chunk it was given, from 1 byte to 256 KiB', async () => {
      const chunks = [1, 2, 100, 4096, 65_535, 65_536, 100_003, 262_144].map(randomChunk)
      for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes)
      for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes)
      // A caller that hashes the bytes itself gets the same bytes.
      for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash, { callerVerifies: true }))!)).toEqual(chunk.bytes)
    })

    it('gives back a chunk as it keeps it, compressed or not, which unpacks to the chunk', async () => {
      const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `entry ${i} of the log ${i % 17}\n`).join(''))
      const chunks = [{ hash: chunkId(text), bytes: text }, randomChunk(70_000)]
      for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes)
      for (const chunk of chunks) {
        const stored = (await store.getStored(chunk.hash))!
        expect(stored.size).toBe(chunk.bytes.byteLength)
        expect(stored.compressed).toBe(stored.bytes.byteLength < stored.size)
        expect(stored.compressed ? decompress(stored.bytes, stored.size) : Buffer.from(stored.bytes)).toEqual(chunk.bytes)
      }
      expect(await store.getStored(randomChunk(10).hash)).toBeUndefined()
    })

    it('says which chunks it has, in the order asked', async () => {
      const [a, b, c] = [randomChunk(10), randomChunk(20), randomChunk(30)] as [TestChunk, TestChunk, TestChunk]
      await store.put(a.hash, a.bytes)
      await store.put(c.hash, c.bytes)
      expect(await store.has([a.hash, b.hash, c.hash, a.hash])).toEqual([true, false, true, true])
      expect(await store.has([])).toEqual([])
    })

    it('returns undefined for a chunk it does not have', async () => {
      expect(await store.get(randomChunk(1000).hash)).toBeUndefined()
    })

    it('stores a chunk put twice once, also when the puts race', async () => {
      const a = randomChunk(5000)
      const b = randomChunk(7000)
      await store.put(a.hash, a.bytes)
      await store.put(a.hash, a.bytes)
      await Promise.all(Array.from({ length: 8 }, async () => { await store.put(b.hash, b.bytes) }))
      const stats = await store.stats()
      expect(stats.chunks).toBe(2)
      expect(stats.uniqueBytes).toBe(12_000)
    })

    it('refuses bytes that are not the chunk they are named as, and stores nothing', async () => {
      const a = randomChunk(3000)
      const b = randomChunk(3000)
      await expect(store.put(a.hash, b.bytes)).rejects.toThrow(InvalidInputError)
      const flipped = Buffer.from(a.bytes)
      flipped[1234] = flipped[1234]! ^ 1
      await expect(store.put(a.hash, flipped)).rejects.toThrow(InvalidInputError)
      await expect(store.put(a.hash.subarray(0, 16), a.bytes)).rejects.toThrow(InvalidInputError)
      expect(await store.has([a.hash, b.hash])).toEqual([false, false])
      expect(await store.get(a.hash)).toBeUndefined()
      expect((await store.stats()).chunks).toBe(0)
    })

    it('counts the unique bytes, and stores incompressible (random) ones in at least as many', async () => {
      expect(await store.stats()).toEqual({ chunks: 0, uniqueBytes: 0, storedBytes: 0 })
      const chunks = [randomChunk(1000), randomChunk(20_000), randomChunk(300_000 - 21_000)]
      for (const chunk of [...chunks, ...chunks]) await store.put(chunk.hash, chunk.bytes)
      const stats = await store.stats()
      expect(stats.chunks).toBe(3)
      expect(stats.uniqueBytes).toBe(300_000)
      expect(stats.storedBytes).toBeGreaterThanOrEqual(300_000)
    })

    it('keeps its chunks across close and reopen', async () => {
      const chunks = Array.from({ length: 20 }, (_, i) => randomChunk(1000 + i * 997))
      await Promise.all(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
      const before = await store.stats()
      await store.close()
      store = await subject.reopen()
      expect(await store.stats()).toEqual(before)
      expect(await store.has(chunks.map(c => c.hash))).toEqual(chunks.map(() => true))
      for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes)
      const more = randomChunk(4321)
      await store.put(more.hash, more.bytes)
      expect(Buffer.from((await store.get(more.hash))!)).toEqual(more.bytes)
    })

    it('finds nothing damaged in a healthy store, and reports its progress to the end', async () => {
      const chunks = Array.from({ length: 30 }, (_, i) => randomChunk(100 + i * 1000))
      for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes)
      const progress: Array<[number, number]> = []
      expect(await store.verify({ onProgress: (done, total) => { progress.push([done, total]) } })).toEqual([])
      expect(progress.at(-1)).toEqual([30, 30])
    })

    const liveOnly = (chunks: TestChunk[]) => async () => {
      const keep = new Set(chunks.map(c => chunkIdHex(c.hash)))
      return (hash: Uint8Array) => keep.has(chunkIdHex(hash))
    }

    it('collects the chunks nobody needs and keeps every one that is needed', async () => {
      const kept = Array.from({ length: 10 }, (_, i) => randomChunk(1000 + i))
      const dropped = Array.from({ length: 10 }, (_, i) => randomChunk(2000 + i))
      for (const chunk of [...kept, ...dropped]) await store.put(chunk.hash, chunk.bytes)
      // Reopened so that nothing counts as confirmed lately.
      await store.close()
      store = await subject.reopen()
      const result = await store.collect(liveOnly(kept), { graceMs: 0, compactBelow: 0.99 })
      expect(result).toMatchObject({ chunks: 20, swept: 10, sweptBytes: dropped.reduce((n, c) => n + c.bytes.byteLength, 0), spared: 0 })
      expect(result.skipped).toBeUndefined()
      expect(result.freedBytes).toBeGreaterThan(0)
      expect(await store.has([...kept, ...dropped].map(c => c.hash))).toEqual([...kept.map(() => true), ...dropped.map(() => false)])
      for (const chunk of dropped) expect(await store.get(chunk.hash)).toBeUndefined()
      for (const chunk of kept) expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes)
      expect(await store.verify()).toEqual([])
      expect(await store.stats()).toMatchObject({ chunks: 10, uniqueBytes: kept.reduce((n, c) => n + c.bytes.byteLength, 0) })
      // A collected chunk can be stored again.
      await store.put(dropped[0]!.hash, dropped[0]!.bytes)
      expect(Buffer.from((await store.get(dropped[0]!.hash))!)).toEqual(dropped[0]!.bytes)
    })

    it('spares a chunk put, found present or read while it collects, and everything within the grace period', async () => {
      const confirmed = randomChunk(3000)
      const read = randomChunk(3001)
      const other = randomChunk(3002)
      for (const chunk of [confirmed, read, other]) await store.put(chunk.hash, chunk.bytes)
      await store.close()
      store = await subject.reopen()
      const fresh = randomChunk(4000)
      const result = await store.collect(async () => {
        // What backups and pulls do while the live set is being marked.
        await store.put(fresh.hash, fresh.bytes)
        expect(await store.has([confirmed.hash])).toEqual([true])
        expect(await store.get(read.hash)).toBeDefined()
        return () => false
      }, { graceMs: 0 })
      expect(result).toMatchObject({ swept: 1, spared: 3 })
      expect(await store.has([confirmed.hash, read.hash, fresh.hash, other.hash])).toEqual([true, true, true, false])
      const graced = await store.collect(async () => () => false)
      expect(graced.swept).toBe(0)
      expect(graced.skipped).toBeDefined()
      expect(await store.has([confirmed.hash, read.hash, fresh.hash])).toEqual([true, true, true])
    })

    it('stops verifying when asked to', async () => {
      const chunk = randomChunk(100)
      await store.put(chunk.hash, chunk.bytes)
      await expect(store.verify({ signal: AbortSignal.abort() })).rejects.toThrow()
    })
  })
}
