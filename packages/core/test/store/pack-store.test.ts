import { createSecretKey, randomBytes } from 'node:crypto'
import { appendFile, mkdtemp, open, readFile, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { chunkId, chunkIdHex } from '../../src/chunking/chunk-id.ts'
import { InvalidKeyError, NotConfiguredError, StoreDamagedError, StoreFullError } from '../../src/errors.ts'
import { openPackStore } from '../../src/store/index.ts'
import { describeChunkStore, randomChunk, textChunk } from './chunk-store-compliance.ts'
import { fileHandleMethods } from '../util/file-handle-methods.ts'
import { findEntryIn, flipByte, packFilesIn } from './pack-files-on-disk.ts'
import type { KeyObject } from 'node:crypto'
import type { ChunkStore } from '../../src/store/index.ts'
import type { TestChunk } from './chunk-store-compliance.ts'

const newKey = (): KeyObject => createSecretKey(randomBytes(32))

describeChunkStore('pack store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aerie-pack-store-'))
  const dataKey = newKey()
  return {
    store: await openPackStore({ dir, dataKey }),
    reopen: async () => await openPackStore({ dir, dataKey }),
    destroy: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})

describe('pack store', () => {
  let dir: string
  let dataKey: KeyObject
  let store: ChunkStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-pack-store-'))
    dataKey = newKey()
    store = await openPackStore({ dir, dataKey, packSize: 1024 * 1024 })
  })

  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  const reopen = async (): Promise<void> => {
    await store.close()
    store = await openPackStore({ dir, dataKey, packSize: 1024 * 1024 })
  }

  const packFiles = async (): Promise<string[]> => await packFilesIn(dir)
  const findEntry = async (chunk: TestChunk): Promise<{ path: string, at: number }> => await findEntryIn(dir, chunk)


  const putAll = async (chunks: TestChunk[]): Promise<void> => {
    for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes)
  }

  const expectReadable = async (chunks: TestChunk[]): Promise<void> => {
    for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes)
  }

  it('keeps no plaintext in its packs', async () => {
    const marker = Buffer.from('AERIE-PLAINTEXT-MARKER ')
    const bytes = Buffer.concat([...Array.from({ length: 100 }, () => marker), randomBytes(1000)])
    await store.put(chunkId(bytes), bytes)
    const [pack] = await packFiles()
    const stored = await readFile(pack!)
    expect(stored.indexOf(marker)).toBe(-1)
    expect(stored.indexOf(bytes.subarray(2300, 2316))).toBe(-1)
  })

  it('keeps chunks that compress well compressed, and gives them back whole', async () => {
    const text = textChunk(200_000)
    const zeros = Buffer.alloc(64 * 1024)
    const random = randomChunk(64 * 1024)
    const chunks = [text, { hash: chunkId(zeros), bytes: zeros }, random]
    await putAll(chunks)
    const stats = await store.stats()
    expect(stats.uniqueBytes).toBe(200_000 + 2 * 64 * 1024)
    // Text to well under half, zeros to almost nothing; the random chunk as it is (plus its seal).
    expect(stats.storedBytes).toBeLessThan(100_000 + 64 * 1024 + 1024)
    expect(stats.storedBytes).toBeGreaterThan(64 * 1024)
    await expectReadable(chunks)
    for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash, { callerVerifies: true }))!)).toEqual(chunk.bytes)
    expect(await store.verify()).toEqual([])
    // As kept: the text and the zeros compressed, the random chunk as it is.
    expect(await Promise.all(chunks.map(async c => (await store.getStored(c.hash))!.compressed))).toEqual([true, true, false])
    await reopen()
    await expectReadable(chunks)
  })

  it('does not try to compress a chunk its caller says does not pay', async () => {
    const text = textChunk(50_000)
    await store.put(text.hash, text.bytes, { compress: false })
    expect((await store.getStored(text.hash))!.compressed).toBe(false)
    expect((await store.stats()).storedBytes).toBeGreaterThan(50_000)
    await expectReadable([text])
  })

  it('finds a compressed chunk whose pack bytes changed, and still reads the others', async () => {
    const text = textChunk(50_000)
    const other = textChunk(60_000)
    await putAll([text, other])
    const { path, at } = await findEntry(text)
    await flipByte(path, at + 100)
    await expect(store.get(text.hash)).rejects.toThrow(StoreDamagedError)
    await expect(store.getStored(text.hash)).rejects.toThrow(StoreDamagedError)
    const damaged = await store.verify()
    expect(damaged.map(d => chunkIdHex(d.hash))).toEqual([chunkIdHex(text.hash)])
    await expectReadable([other])
  })

  it('packs many chunks into few files, and counts their bytes', async () => {
    const chunks = Array.from({ length: 100 }, () => randomChunk(64 * 1024))
    await Promise.all(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
    const files = await packFiles()
    // 6.4 MiB in packs of at most 1 MiB.
    expect(files.length).toBeGreaterThanOrEqual(7)
    expect(files.length).toBeLessThanOrEqual(8)
    const sizes = await Promise.all(files.map(async f => (await stat(f)).size))
    for (const size of sizes) expect(size).toBeLessThanOrEqual(1024 * 1024)
    expect((await store.stats()).storedBytes).toBe(sizes.reduce((a, b) => a + b, 0))
    await expectReadable(chunks)
  })

  it('refuses to read a chunk whose pack bytes changed, names it, and still reads the others', async () => {
    const chunks = [randomChunk(10_000), randomChunk(20_000), randomChunk(30_000)]
    const [a, b, c] = chunks as [TestChunk, TestChunk, TestChunk]
    await putAll(chunks)
    const entry = await findEntry(b)
    await flipByte(entry.path, entry.at + 36 + 5000)
    const err = await store.get(b.hash).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(StoreDamagedError)
    expect((err as StoreDamagedError).code).toBe('ERR_STORE_DAMAGED')
    expect((err as Error).message).toContain(chunkIdHex(b.hash))
    expect((err as Error).message).toContain(entry.path.slice(dir.length + 1))
    await expectReadable([a, c])
    const damaged = await store.verify()
    expect(damaged.map(d => chunkIdHex(d.hash))).toEqual([chunkIdHex(b.hash)])
    expect(damaged[0]!.where).toContain(entry.path.slice(dir.length + 1))
  })

  it('finds changed pack bytes by their seal also for a caller that hashes the chunks itself', async () => {
    const chunks = [randomChunk(10_000), randomChunk(70_000)]
    const [a, b] = chunks as [TestChunk, TestChunk]
    await putAll(chunks)
    const entry = await findEntry(b)
    await flipByte(entry.path, entry.at + 36 + 60_000)
    expect(Buffer.from((await store.get(a.hash, { callerVerifies: true }))!)).toEqual(a.bytes)
    await expect(store.get(b.hash, { callerVerifies: true })).rejects.toThrow(StoreDamagedError)
    expect(await store.has([a.hash, b.hash])).toEqual([true, false])
  })

  it('counts a damaged chunk as missing until a good copy is put, which replaces it', async () => {
    const chunks = [randomChunk(10_000), randomChunk(20_000)]
    const [a, b] = chunks as [TestChunk, TestChunk]
    await putAll(chunks)
    const entry = await findEntry(a)
    await flipByte(entry.path, entry.at + 36 + 100)
    expect(await store.verify()).toHaveLength(1)
    expect(await store.has([a.hash, b.hash])).toEqual([false, true])
    await store.put(a.hash, a.bytes)
    expect(await store.has([a.hash, b.hash])).toEqual([true, true])
    await expectReadable(chunks)
    expect(await store.verify()).toEqual([])
    expect(await store.stats()).toMatchObject({ chunks: 2, uniqueBytes: 30_000 })
    await reopen()
    await expectReadable(chunks)
  })

  it('reports a chunk cut off by a truncated pack, and a missing pack', async () => {
    const small = await openPackStore({ dir: join(dir, 'small'), dataKey, packSize: 64 * 1024 })
    try {
      const chunks = [randomChunk(30_000), randomChunk(30_000), randomChunk(30_000)]
      const [a, b, c] = chunks as [TestChunk, TestChunk, TestChunk]
      for (const chunk of chunks) await small.put(chunk.hash, chunk.bytes)
      const entryB = await findEntryIn(join(dir, 'small'), b)
      await truncate(entryB.path, entryB.at + 36 + 1000)
      await expect(small.get(b.hash)).rejects.toThrow(StoreDamagedError)
      await expect(small.get(b.hash)).rejects.toThrow(/cut short/)
      const entryC = await findEntryIn(join(dir, 'small'), c)
      expect(entryC.path).not.toBe(entryB.path)
      await rm(entryC.path)
      await expect(small.get(c.hash)).rejects.toThrow(/pack file is missing/)
      expect(Buffer.from((await small.get(a.hash))!)).toEqual(a.bytes)
      const damaged = await small.verify()
      expect(damaged.map(d => [chunkIdHex(d.hash), d.reason])).toEqual([
        [chunkIdHex(b.hash), 'its pack file is cut short'],
        [chunkIdHex(c.hash), 'its pack file is missing']
      ])
    } finally {
      await small.close()
    }
  })

  it('shrugs off a tail written but never indexed (a crash between write and commit)', async () => {
    const a = randomChunk(50_000)
    await putAll([a])
    await store.close()
    const [pack] = await packFiles()
    const lengthBefore = (await stat(pack!)).size
    await appendFile(pack!, randomBytes(12_345))
    store = await openPackStore({ dir, dataKey, packSize: 1024 * 1024 })
    await expectReadable([a])
    const b = randomChunk(40_000)
    await putAll([b])
    await reopen()
    await expectReadable([a, b])
    expect(await store.verify()).toEqual([])
    // The tail is left as it was: bytes the index does not know are never overwritten.
    const after = await readFile(pack!)
    expect(after.byteLength).toBe(lengthBefore + 12_345)
    expect((await findEntry(b)).path).not.toBe(pack)
  })

  it('appends to the last pack after a clean restart', async () => {
    const a = randomChunk(10_000)
    const b = randomChunk(10_000)
    await putAll([a])
    await reopen()
    await putAll([b])
    expect(await packFiles()).toHaveLength(1)
    await expectReadable([a, b])
  })

  it('refuses a data key other than the one the store was made with', async () => {
    const a = randomChunk(1000)
    await putAll([a])
    await store.close()
    await expect(openPackStore({ dir, dataKey: newKey() })).rejects.toThrow(InvalidKeyError)
    store = await openPackStore({ dir, dataKey })
    await expectReadable([a])
  })

  it('refuses a second process (or a second open) on the same directory', async () => {
    await expect(openPackStore({ dir, dataKey })).rejects.toThrow(NotConfiguredError)
  })

  it('completes 200 concurrent puts with few fsyncs, and reads them all back', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => randomChunk(1000 + (i * 7919) % 4000))
    const prototype = await fileHandleMethods()
    const sync = vi.spyOn(prototype, 'sync')
    try {
      await Promise.all(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
      // One group commit: the pack's fsync and the new pack's directories, not one per chunk.
      expect(sync.mock.calls.length).toBeLessThanOrEqual(5)
    } finally {
      sync.mockRestore()
    }
    expect(await store.has(chunks.map(c => c.hash))).toEqual(chunks.map(() => true))
    await Promise.all(chunks.map(async chunk => { expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes) }))
    expect((await store.stats()).chunks).toBe(200)
  })

  it('indexes nothing whose write failed, and carries on in a new pack', async () => {
    const a = randomChunk(10_000)
    const b = randomChunk(10_000)
    const c = randomChunk(10_000)
    await putAll([a])
    const [first] = await packFiles()
    const before = (await stat(first!)).size
    const prototype = await fileHandleMethods()
    const sync = vi.spyOn(prototype, 'sync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
    try {
      await expect(store.put(b.hash, b.bytes)).rejects.toThrow(/EIO/)
    } finally {
      sync.mockRestore()
    }
    expect(await store.has([a.hash, b.hash])).toEqual([true, false])
    // What the failed group wrote is cut off again: no unindexed bytes take space.
    expect((await stat(first!)).size).toBe(before)
    await putAll([b, c])
    await reopen()
    await expectReadable([a, b, c])
    expect(await packFiles()).toHaveLength(2)
    expect(await store.verify()).toEqual([])
  })

  it('keeps the last 1% of its disk free: a group that would take it is refused, and nothing of it written', async () => {
    await store.close()
    // A disk of 100 MiB with 1.5 MiB free: 1 MiB is kept, so half a MiB of room.
    const disk = { bsize: 4096, blocks: 100 * 256, bavail: 384 }
    store = await openPackStore({ dir, dataKey, packSize: 1024 * 1024, statfs: async () => ({ ...disk }) })
    const small = randomChunk(100_000)
    const big = randomChunk(600_000)
    await putAll([small])
    const failed = store.put(big.hash, big.bytes)
    await expect(failed).rejects.toBeInstanceOf(StoreFullError)
    await expect(failed).rejects.toThrow(/^the disk that holds the chunk store is full: not enough free space on the disk of .*: 58\d\.\d KiB needed, .* free and 1\.0 MiB \(1% of the disk\) kept free$/)
    expect(await store.has([small.hash, big.hash])).toEqual([true, false])
    const [pack] = await packFiles()
    expect((await stat(pack!)).size).toBeLessThan(200_000)
  })

  it('on a full disk: a StoreFullError that says where, the half-written bytes given back, and the next put stored', async () => {
    const a = randomChunk(10_000)
    const b = randomChunk(200_000)
    await putAll([a])
    const [pack] = await packFiles()
    const before = (await stat(pack!)).size
    const methods = await fileHandleMethods()
    const writev = methods.writev
    // The disk takes the entry's header, then has no room for the rest.
    const spy = vi.spyOn(methods, 'writev').mockImplementationOnce(async function (this: unknown, ...args: unknown[]) {
      const [buffers, at] = args as [Uint8Array[], number]
      await writev.call(this, buffers.slice(0, 1), at)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    })
    try {
      const failed = store.put(b.hash, b.bytes)
      await expect(failed).rejects.toBeInstanceOf(StoreFullError)
      await expect(failed).rejects.toThrow(`the disk that holds the chunk store (${dir}) is full: ENOSPC`)
    } finally {
      spy.mockRestore()
    }
    expect((await stat(pack!)).size).toBe(before)
    expect(await store.has([a.hash, b.hash])).toEqual([true, false])
    await putAll([b])
    await reopen()
    await expectReadable([a, b])
    expect(await store.verify()).toEqual([])
  })

  /** Two group commits' worth (8 MiB each) of 100 KiB chunks. */
  const twoGroups = (): TestChunk[] => Array.from({ length: 160 }, () => randomChunk(100 * 1024))

  it('writes the next group while the one before it is fsynced, and indexes each only after its own fsync', async () => {
    const chunks = twoGroups()
    const methods = await fileHandleMethods()
    const writev = vi.spyOn(methods, 'writev')
    const release = Promise.withResolvers<void>()
    const original = methods.sync
    let writesBeforeSync = -1
    const sync = vi.spyOn(methods, 'sync').mockImplementationOnce(async function (this: unknown) {
      writesBeforeSync = writev.mock.calls.length
      await release.promise
      return await original.call(this)
    })
    try {
      const puts = Promise.all(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
      await vi.waitFor(() => { expect(writesBeforeSync >= 0 && writev.mock.calls.length > writesBeforeSync).toBe(true) }, { timeout: 5_000, interval: 10 })
      expect(await store.has(chunks.map(c => c.hash))).toEqual(chunks.map(() => false))
      release.resolve()
      await puts
    } finally {
      release.resolve()
      writev.mockRestore()
      sync.mockRestore()
    }
    await reopen()
    await expectReadable(chunks)
    expect(await store.verify()).toEqual([])
  })

  it('fails the group written behind a failed fsync too, and carries on in a new pack', async () => {
    const chunks = twoGroups()
    const methods = await fileHandleMethods()
    const sync = vi.spyOn(methods, 'sync').mockImplementationOnce(async () => {
      await new Promise(resolve => setTimeout(resolve, 100))
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
    })
    let results: Array<PromiseSettledResult<void>>
    try {
      results = await Promise.allSettled(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
    } finally {
      sync.mockRestore()
    }
    // Both groups: the first's fsync failed, the second was written behind it.
    expect(results.filter(r => r.status === 'rejected')).toHaveLength(chunks.length)
    expect(await store.has(chunks.map(c => c.hash))).toEqual(chunks.map(() => false))
    await putAll(chunks)
    await reopen()
    await expectReadable(chunks)
    expect(await store.verify()).toEqual([])
  })

  it('finishes puts under way when closed', async () => {
    const chunks = Array.from({ length: 20 }, () => randomChunk(5000))
    const puts = Promise.all(chunks.map(async chunk => { await store.put(chunk.hash, chunk.bytes) }))
    await store.close()
    await puts
    store = await openPackStore({ dir, dataKey })
    expect(await store.has(chunks.map(c => c.hash))).toEqual(chunks.map(() => true))
  })

  it('writes a pack only within its directory, under packs/NN/', async () => {
    await putAll([randomChunk(100)])
    const [pack] = await packFiles()
    expect(pack!.slice(dir.length)).toMatch(/^\/packs\/([0-9a-f]{2})\/\1[0-9a-f]{30}\.pack$/)
  })
})

describe('pack store collection', () => {
  let dir: string
  let dataKey: KeyObject
  let store: ChunkStore
  const openStore = async (): Promise<ChunkStore> => await openPackStore({ dir, dataKey, packSize: 256 * 1024 })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-pack-gc-'))
    dataKey = newKey()
    store = await openStore()
  })

  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  const liveOnly = (chunks: TestChunk[]) => async () => {
    const keep = new Set(chunks.map(c => chunkIdHex(c.hash)))
    return (hash: Uint8Array) => keep.has(chunkIdHex(hash))
  }

  /** 60 chunks of 20 KiB over several packs, half of them kept compressed; every third is kept. */
  const fill = async (): Promise<{ kept: TestChunk[], dropped: TestChunk[] }> => {
    const chunks = Array.from({ length: 60 }, (_, i) => i % 2 === 0 ? randomChunk(20 * 1024) : textChunk(20 * 1024))
    for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes)
    await store.close()
    store = await openStore()
    return { kept: chunks.filter((_, i) => i % 3 === 0), dropped: chunks.filter((_, i) => i % 3 !== 0) }
  }

  const expectAll = async (chunks: TestChunk[]): Promise<void> => {
    for (const chunk of chunks) expect(Buffer.from((await store.get(chunk.hash))!)).toEqual(chunk.bytes)
  }

  it('compacts mostly dead packs into new ones and deletes the old files', async () => {
    const { kept, dropped } = await fill()
    const before = await packFilesIn(dir)
    const storedBefore = (await store.stats()).storedBytes
    const result = await store.collect(liveOnly(kept), { graceMs: 0 })
    expect(result.swept).toBe(dropped.length)
    expect(result.compacted).toBeGreaterThan(0)
    expect(result.deletedPacks).toBeGreaterThanOrEqual(result.compacted)
    const after = await packFilesIn(dir)
    expect(after.length).toBeLessThan(before.length)
    const stored = (await store.stats()).storedBytes
    expect(stored).toBeLessThan(storedBefore / 2)
    expect(result.freedBytes).toBe(storedBefore - stored)
    await expectAll(kept)
    expect(await store.verify()).toEqual([])
    await store.close()
    store = await openStore()
    await expectAll(kept)
    expect(await store.verify()).toEqual([])
  })

  it.each(['copied', 'relocated'] as const)('leaves every chunk readable when it stops after a pack is %s, and finishes the next time', async (step) => {
    const { kept } = await fill()
    await expect(store.collect(liveOnly(kept), { graceMs: 0, onStep: (at) => { if (at === step) throw new Error('power cut') } })).rejects.toThrow('power cut')
    await store.close()
    store = await openStore()
    await expectAll(kept)
    expect(await store.verify()).toEqual([])
    const again = await store.collect(liveOnly(kept), { graceMs: 0 })
    expect(again.deletedPacks).toBeGreaterThan(0)
    await expectAll(kept)
    expect(await store.verify()).toEqual([])
    expect((await store.stats()).chunks).toBe(kept.length)
  })

  it('leaves a pack with a damaged chunk as it is', async () => {
    const { kept } = await fill()
    const { path, at } = await findEntryIn(dir, kept[0]!)
    const file = await open(path, 'r+')
    await file.write(Buffer.from([0xff]), 0, 1, at + 100)
    await file.close()
    const damaged = await store.verify()
    expect(damaged.length).toBe(1)
    await store.collect(liveOnly(kept), { graceMs: 0 })
    expect(await packFilesIn(dir)).toContain(path)
    await expectAll(kept.slice(1))
  })

  it('spares a chunk found present within the grace period, not one only looked at (a scrub\'s has)', async () => {
    const { kept, dropped } = await fill()
    const [confirmed, looked] = dropped as [TestChunk, TestChunk]
    // Past the grace period since the store opened (it sweeps nothing before), then a confirmation and a look.
    const graceMs = 2000
    await new Promise(resolve => setTimeout(resolve, graceMs + 100))
    expect(await store.has([confirmed.hash])).toEqual([true])
    expect(await store.has([looked.hash], { confirms: false })).toEqual([true])
    const result = await store.collect(liveOnly(kept), { graceMs })
    expect(result.skipped).toBeUndefined()
    expect(await store.has([confirmed.hash, looked.hash], { confirms: false })).toEqual([true, false])
  })

  it('does not sweep while the store has been open for less than the grace period', async () => {
    const { kept } = await fill()
    const result = await store.collect(liveOnly(kept), { graceMs: 60 * 60 * 1000 })
    expect(result.swept).toBe(0)
    expect(result.skipped).toMatch(/grace period/)
    expect((await store.stats()).chunks).toBe(60)
  })
})
