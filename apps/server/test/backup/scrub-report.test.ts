import { describe, expect, it } from 'vitest'
import { chunkId, chunkIdHex, encodeChunkList, encodeTree, LIST_CHUNKS } from '@aerie/core'
import type { ChunkStore, DamagedChunk } from '@aerie/core'
import { formatScrubReport, MISSING_WHERE, runScrub, scrubProgressLine } from '../../src/backup/scrub.ts'
import type { ScrubProgress } from '../../src/backup/scrub.ts'
import type { BackupSnapshotRecord, BackupStore } from '../../src/metadata/stores.ts'

const blob = (text: string): { hash: Uint8Array, size: number, bytes: Uint8Array } => {
  const bytes = new TextEncoder().encode(text)
  return { hash: chunkId(bytes), size: bytes.byteLength, bytes }
}

/** A store that holds blobs in memory and whose verify() finds the ones it is told are damaged. */
function storeOf (blobs: Array<{ hash: Uint8Array, bytes: Uint8Array }>, damaged: Uint8Array[]): ChunkStore {
  const held = new Map(blobs.map(b => [chunkIdHex(b.hash), b.bytes]))
  const bad = new Set(damaged.map(chunkIdHex))
  return {
    has: async hashes => hashes.map(h => held.has(chunkIdHex(h)) && !bad.has(chunkIdHex(h))),
    put: async () => {},
    get: async hash => bad.has(chunkIdHex(hash)) ? await Promise.reject(new Error('damaged')) : held.get(chunkIdHex(hash)),
    getStored: async () => await Promise.reject(new Error('not in this test')),
    stats: async () => ({ chunks: held.size, uniqueBytes: 0, storedBytes: 0 }),
    verify: async (options) => {
      options?.onProgress?.(held.size, held.size)
      return damaged.map((hash): DamagedChunk => ({ hash, where: 'pack 1 at 0', reason: 'its authentication tag does not match' }))
    },
    collect: async () => await Promise.reject(new Error('not in this test')),
    close: async () => {}
  }
}

describe('a scrub report', () => {
  it('names the snapshots and files (inline chunks, chunk lists, damaged directories) and the central-copy files that need a damaged chunk', async () => {
    const good = blob('good'); const bad = blob('bad'); const other = blob('other')
    const list = encodeChunkList([good, bad])
    const listId = chunkId(list)
    expect(LIST_CHUNKS).toBeGreaterThan(2)
    const lostDir = encodeTree([{ name: 'x.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 5, chunks: [other] }])
    const sub = encodeTree([
      { name: 'inline.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 7, chunks: [good, bad] },
      { name: 'listed.bin', type: 'file', mode: 0o644, mtimeMs: 1, size: 7, lists: [listId] },
      { name: 'fine.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 4, chunks: [good] }
    ])
    const root = encodeTree([
      { name: 'docs', type: 'dir', mode: 0o755, mtimeMs: 1, size: 0, tree: sub.id },
      { name: 'lost', type: 'dir', mode: 0o755, mtimeMs: 1, size: 0, tree: lostDir.id }
    ])
    const cleanRoot = encodeTree([{ name: 'fine.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 4, chunks: [good] }])
    const store = storeOf([good, bad, other, { hash: listId, bytes: list }, { ...sub }, { ...lostDir }, root, cleanRoot].map(b => ({ hash: 'id' in b ? b.id : b.hash, bytes: b.bytes })), [bad.hash, lostDir.id])
    const record = (id: string, rootId: Uint8Array): BackupSnapshotRecord => ({
      id, deviceId: 'dev1', deviceName: 'laptop', user: 'ada@example.org', root: chunkIdHex(rootId), paths: ['/home'], startedAt: new Date(0),
      committedAt: new Date(0), counters: {}, received: { chunks: 0, bytes: 0 }
    })
    const snapshots = { listSnapshots: () => [record('s1', root.id), record('s2', cleanRoot.id)] } as unknown as BackupStore
    const heard: ScrubProgress[] = []
    const report = await runScrub({
      store,
      snapshots,
      centralFiles: () => [
        { folder: 'team', path: 'a.txt', version: 'current' as const, chunks: [good] },
        { folder: 'team', path: 'b.txt', version: 'kept' as const, chunks: [good, bad] }
      ],
      now: () => new Date('2030-01-01T00:00:00Z')
    }, { onProgress: p => heard.push(p) })
    expect(report.checked).toBe(8)
    // Reading first, then tracing who needs what.
    expect(heard.map(p => [p.phase, p.checked, p.total, p.pace])).toEqual([['reading', 0, 0, 0], ['reading', 8, 8, 0], ['tracing', 8, 8, 0]])
    expect(heard.every(p => p.startedAt === report.startedAt)).toBe(true)
    expect(report.damaged.map(d => d.chunk)).toEqual([chunkIdHex(bad.hash), chunkIdHex(lostDir.id)])
    expect(report.snapshots).toEqual([{
      id: 's1', deviceId: 'dev1', deviceName: 'laptop', user: 'ada@example.org', committedAt: '1970-01-01T00:00:00.000Z',
      files: ['docs/inline.txt', 'docs/listed.bin', 'lost/ (this directory: its directory object is damaged or missing)']
    }])
    expect(report.centralFiles).toEqual([{ folder: 'team', path: 'b.txt', version: 'kept' }])
    const printed = formatScrubReport(report)
    expect(printed).toMatch(/8 chunks read back, 2 damaged/)
    expect(printed).toMatch(/snapshot s1 of laptop .*: 3 files affected/)
    expect(printed).toMatch(/central copy team\/b\.txt \(a kept version\) affected/)
  })

  it('names what needs a chunk, a chunk list or a directory object the store does not hold at all, and only looks (confirms nothing)', async () => {
    const good = blob('good'); const gone = blob('gone'); const goneList = blob('a chunk list that is gone'); const goneDir = blob('a directory object that is gone')
    const root = encodeTree([
      { name: 'a.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 8, chunks: [good, gone] },
      { name: 'b.bin', type: 'file', mode: 0o644, mtimeMs: 1, size: 9, lists: [goneList.hash] },
      { name: 'c.txt', type: 'file', mode: 0o644, mtimeMs: 1, size: 4, chunks: [good] },
      { name: 'sub', type: 'dir', mode: 0o755, mtimeMs: 1, size: 0, tree: goneDir.hash }
    ])
    const store = storeOf([good, { hash: root.id, bytes: root.bytes }], [])
    const looks: Array<boolean | undefined> = []
    const has = store.has.bind(store)
    store.has = async (hashes, options) => { looks.push(options?.confirms); return await has(hashes, options) }
    const snapshots = {
      listSnapshots: () => [{ id: 's1', deviceId: 'dev1', deviceName: 'laptop', user: 'ada@example.org', root: chunkIdHex(root.id), committedAt: new Date(0) }]
    } as unknown as BackupStore
    const report = await runScrub({
      store,
      snapshots,
      centralFiles: () => [{ folder: 'team', path: 'c.txt', version: 'current' as const, chunks: [good, gone] }]
    })
    expect(report.damaged).toEqual(expect.arrayContaining([gone, goneList, goneDir].map(b => ({ chunk: chunkIdHex(b.hash), where: MISSING_WHERE, reason: 'the store does not hold it' }))))
    expect(report.damaged).toHaveLength(3)
    expect(report.snapshots[0]!.files).toEqual(['a.txt', 'b.bin', 'sub/ (this directory: its directory object is damaged or missing)'])
    expect(report.centralFiles).toEqual([{ folder: 'team', path: 'c.txt', version: 'current' }])
    expect(looks.length).toBeGreaterThan(0)
    expect(looks.every(confirms => confirms === false)).toBe(true)
    const printed = formatScrubReport(report)
    expect(printed).toMatch(/2 chunks read back, 0 damaged, 3 missing/)
    expect(printed).toContain(`missing chunk ${chunkIdHex(gone.hash).slice(0, 16)}…: the store does not hold it`)
  })

  it('is short when nothing is damaged', async () => {
    const report = await runScrub({ store: storeOf([], []), snapshots: { listSnapshots: () => [] } as unknown as BackupStore, centralFiles: () => [] })
    expect(report).toMatchObject({ damaged: [], snapshots: [], centralFiles: [] })
    expect(formatScrubReport(report)).not.toMatch(/affected/)
  })

  it('says how far a running scrub is, with the time left at its pace so far', () => {
    const startedAt = '2030-01-01T00:00:00.000Z'
    const at = new Date('2030-01-01T00:00:10.000Z')
    expect(scrubProgressLine({ startedAt, phase: 'reading', checked: 0, total: 0, pace: 0 }, at)).toBe('scrub: reading back every chunk: 0 of 0 (0%)')
    expect(scrubProgressLine({ startedAt, phase: 'reading', checked: 250, total: 1000, pace: 0 }, at)).toBe('scrub: reading back every chunk: 250 of 1000 (25%), about 30 s left')
    expect(scrubProgressLine({ startedAt, phase: 'reading', checked: 250, total: 1000, pace: 64 * 1024 ** 2 }, at)).toBe('scrub: reading back every chunk (paced at 64.0 MiB/s): 250 of 1000 (25%), about 30 s left')
    expect(scrubProgressLine({ startedAt, phase: 'tracing', checked: 1000, total: 1000, pace: 0 }, at)).toBe('scrub: 1000 chunks read back; now tracing what the snapshots and the central copy need')
  })
})
