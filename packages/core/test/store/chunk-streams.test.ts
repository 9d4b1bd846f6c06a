import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashChunksOfBuffer } from '../../src/chunking/index.ts'
import { InvalidInputError, StoreDamagedError } from '../../src/errors.ts'
import { openPackStore, readChunks, storeStream } from '../../src/store/index.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import type { ChunkStore } from '../../src/store/index.ts'

async function * pieces (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
}

describe('streaming content into and out of the chunk store', () => {
  let dir: string
  let store: ChunkStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-chunk-streams-'))
    store = await openPackStore({ dir, dataKey: createSecretKey(randomBytes(32)) })
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('stores a stream as the same chunks a file of its bytes has, and reads any range of it back', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 12345)
    const { chunks, size } = await storeStream(store, pieces(content, 100_003))
    expect(size).toBe(content.byteLength)
    expect(chunks.map(c => Buffer.from(c.hash).toString('hex'))).toEqual(hashChunksOfBuffer(content).map(c => Buffer.from(c.hash).toString('hex')))
    expect((await store.stats()).uniqueBytes).toBe(content.byteLength)
    expect((await collect(readChunks(store, chunks))).equals(content)).toBe(true)
    for (const [start, end] of [[0, 1], [5, 70_000], [1_000_000, 2_500_000], [content.byteLength - 1, content.byteLength], [17, 17]] as const) {
      expect((await collect(readChunks(store, chunks, start, end))).equals(content.subarray(start, end))).toBe(true)
    }
    // The same bytes again cost nothing.
    await storeStream(store, pieces(content, 4096))
    expect((await store.stats()).uniqueBytes).toBe(content.byteLength)
  })

  it('refuses a range outside the content, and fails loudly on a missing chunk', async () => {
    const { chunks } = await storeStream(store, pieces(randomBytes(100_000), 10_000))
    await expect(collect(readChunks(store, chunks, 0, 100_001))).rejects.toThrow(InvalidInputError)
    await expect(collect(readChunks(store, chunks, 50, 10))).rejects.toThrow(InvalidInputError)
    const missing = [{ hash: new Uint8Array(32).fill(9), size: 10 }]
    await expect(collect(readChunks(store, missing))).rejects.toThrow(StoreDamagedError)
  })

  it('readers sharing a read-ahead budget all finish, and one that stops early gives its share back', async () => {
    const content = randomBytes(1024 * 1024)
    const { chunks } = await storeStream(store, pieces(content, 65_536))
    const budget = new ByteBudget(1) // smaller than any chunk: only the chunk each reader needs now goes
    for await (const _first of readChunks(store, chunks, 0, undefined, { budget })) break
    const both = await Promise.all([collect(readChunks(store, chunks, 0, undefined, { budget })), collect(readChunks(store, chunks, 5, 900_000, { budget }))])
    expect(both[0].equals(content)).toBe(true)
    expect(both[1].equals(content.subarray(5, 900_000))).toBe(true)
    // Nothing is held: the whole budget can be taken again at once.
    expect(budget.tryTake(1)).toBe(true)
  })

  it('an empty stream is empty content', async () => {
    const { chunks, size } = await storeStream(store, pieces(new Uint8Array(0), 1))
    expect({ chunks, size }).toEqual({ chunks: [], size: 0 })
    expect((await collect(readChunks(store, chunks))).byteLength).toBe(0)
  })
})
