import { createSecretKey, randomBytes } from 'node:crypto'
import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidKeyError, NotConfiguredError, StoreDamagedError } from '../../src/errors.ts'
import { openPackStore, rebuildPackIndex } from '../../src/store/index.ts'
import { randomChunk, textChunk } from './chunk-store-compliance.ts'
import { findEntryIn, flipByte, packFilesIn } from './pack-files-on-disk.ts'
import type { KeyObject } from 'node:crypto'
import type { ChunkStore } from '../../src/store/index.ts'
import type { TestChunk } from './chunk-store-compliance.ts'

const newKey = (): KeyObject => createSecretKey(randomBytes(32))
const PACK_SIZE = 256 * 1024

describe('pack index rebuild', () => {
  let dir: string
  let dataKey: KeyObject
  let store: ChunkStore | undefined
  let chunks: TestChunk[]

  const openStore = async (): Promise<ChunkStore> => (store = await openPackStore({ dir, dataKey, packSize: PACK_SIZE }))
  const closeStore = async (): Promise<void> => { await store?.close(); store = undefined }
  const packFiles = async (): Promise<string[]> => await packFilesIn(dir)
  const entryOf = async (chunk: TestChunk): Promise<{ path: string, at: number }> => await findEntryIn(dir, chunk)
  const expectReadable = async (s: ChunkStore, expected: TestChunk[]): Promise<void> => {
    for (const chunk of expected) expect(Buffer.from((await s.get(chunk.hash))!)).toEqual(chunk.bytes)
  }
  const loseIndex = async (): Promise<void> => {
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dir, 'chunks.db' + suffix), { force: true })
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-pack-rebuild-'))
    dataKey = newKey()
    // Several packs; plain and compressed chunks; one blob far larger than a chunk.
    chunks = [
      ...Array.from({ length: 12 }, (_, i) => randomChunk(20_000 + i * 3_000)),
      ...Array.from({ length: 6 }, (_, i) => textChunk(40_000 + i)),
      randomChunk(600_000)
    ]
    const s = await openStore()
    for (const chunk of chunks) await s.put(chunk.hash, chunk.bytes)
    await closeStore()
  })

  afterEach(async () => {
    await closeStore()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses to open a store whose index is gone, then rebuilds it from the packs: every chunk reads back', async () => {
    const before = await (await openStore()).stats()
    await closeStore()
    await loseIndex()
    await expect(openStore()).rejects.toThrow(NotConfiguredError)
    await expect(openStore()).rejects.toThrow(/chunks\.db is missing.*rebuild-index/)

    const progress: number[] = []
    const report = await rebuildPackIndex({ dir, dataKey, onProgress: p => { progress.push(p.packs) } })
    expect(report).toMatchObject({ chunks: chunks.length, bytes: before.uniqueBytes, duplicates: 0, damaged: [], tails: 0, unreadable: [] })
    expect(report.replaced).toBeUndefined()
    expect(report.packs).toBe((await packFiles()).length)
    expect(progress.at(-1)).toBe(report.packs)

    const s = await openStore()
    expect(await s.stats()).toEqual(before)
    await expectReadable(s, chunks)
    expect(await s.verify()).toEqual([])
    // It goes on: a new chunk is stored and survives a restart.
    const more = randomChunk(30_000)
    await s.put(more.hash, more.bytes)
    await closeStore()
    await expectReadable(await openStore(), [...chunks, more])
  })

  it('replaces an index damaged beyond opening, and keeps the old one beside it', async () => {
    await writeFile(join(dir, 'chunks.db'), randomBytes(8192))
    await expect(openStore()).rejects.toThrow(StoreDamagedError)
    await expect(openStore()).rejects.toThrow(/rebuild-index/)
    const report = await rebuildPackIndex({ dir, dataKey })
    expect(report.chunks).toBe(chunks.length)
    expect(basename(report.replaced!)).toMatch(/^chunks\.db\.replaced-/)
    expect((await readFile(report.replaced!)).byteLength).toBe(8192)
    await expectReadable(await openStore(), chunks)
  })

  it('skips a damaged chunk and a damaged entry header to the next good entry, and reports both', async () => {
    await loseIndex()
    // Apart, with good entries between them.
    const [a, b] = [chunks[0]!, chunks[4]!]
    const entryA = await entryOf(a)
    await flipByte(entryA.path, entryA.at + 36 + 500) // a's sealed bytes
    const entryB = await entryOf(b)
    await flipByte(entryB.path, entryB.at + 33) // b's length: the pack's entries no longer line up from there
    const report = await rebuildPackIndex({ dir, dataKey })
    expect(report.chunks).toBe(chunks.length - 2)
    const label = (path: string): string => path.slice(dir.length + 1)
    expect(report.damaged.map(d => [d.pack, d.at])).toEqual([[label(entryA.path), entryA.at], [label(entryB.path), entryB.at]])
    const s = await openStore()
    // Not stored: a device that has them sends them again.
    const others = chunks.filter(c => c !== a && c !== b)
    expect(await s.has([a.hash, b.hash, others[0]!.hash])).toEqual([false, false, true])
    await expectReadable(s, others)
    await s.put(a.hash, a.bytes)
    await expectReadable(s, [a])
    expect(await s.verify()).toEqual([])
  })

  it('takes an unfinished write at the end of a pack for what it is, and appends to a new pack', async () => {
    await loseIndex()
    const last = (await packFiles()).at(-1)!
    // What a crash mid-append leaves: a header, then less of the entry than it announces.
    const header = Buffer.alloc(36)
    randomBytes(32).copy(header)
    header.writeUInt32BE(50_000, 32)
    await appendFile(last, Buffer.concat([header, randomBytes(1000)]))
    const report = await rebuildPackIndex({ dir, dataKey })
    expect(report).toMatchObject({ chunks: chunks.length, tails: 1, damaged: [] })
    const s = await openStore()
    const more = randomChunk(10_000)
    await s.put(more.hash, more.bytes)
    expect((await entryOf(more)).path).not.toBe(last)
    await closeStore()
    await expectReadable(await openStore(), [...chunks, more])
  })

  it('indexes a chunk found in two packs once (a compaction copy whose old pack stayed)', async () => {
    await loseIndex()
    const [first] = await packFiles()
    const copy = join(dirname(first!), `${basename(first!).slice(0, 2)}${'0'.repeat(30)}.pack`)
    await copyFile(first!, copy)
    const inFirst = (await rebuildPackIndex({ dir, dataKey })).duplicates
    expect(inFirst).toBeGreaterThan(0)
    const s = await openStore()
    expect((await s.stats()).chunks).toBe(chunks.length)
    await expectReadable(s, chunks)
  })

  it('refuses another store\'s key and changes nothing', async () => {
    const indexBefore = await readFile(join(dir, 'chunks.db'))
    await expect(rebuildPackIndex({ dir, dataKey: newKey() })).rejects.toThrow(InvalidKeyError)
    await loseIndex()
    await expect(rebuildPackIndex({ dir, dataKey: newKey() })).rejects.toThrow(/no chunk .* authenticates/)
    expect(await readdir(dir)).toEqual(['packs'])
    expect(indexBefore.byteLength).toBeGreaterThan(0)
    await rebuildPackIndex({ dir, dataKey })
    await expectReadable(await openStore(), chunks)
  })

  it('refuses a directory that holds no store, and creates nothing there', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aerie-no-store-'))
    try {
      await expect(rebuildPackIndex({ dir: empty, dataKey })).rejects.toThrow(/no chunk store in .* \(no packs\/ directory\)/)
      expect(await readdir(empty)).toEqual([])
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('refuses while the store is open', async () => {
    await openStore()
    await expect(rebuildPackIndex({ dir, dataKey })).rejects.toThrow(NotConfiguredError)
    await expectReadable(store!, chunks)
  })
})
