import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chunkId, chunkIdHex, encodeChunkList, encodeTree, openPackStore } from '@aerie/core'
import type { ChunkStore } from '@aerie/core'
import { collectGarbage, GcRefusedError } from '../../src/backup/chunk-gc.ts'
import type { ChunkGcInit } from '../../src/backup/chunk-gc.ts'
import type { BackupSnapshotRecord, BackupStore } from '../../src/metadata/stores.ts'

const blob = (size: number): { hash: Uint8Array, size: number, bytes: Uint8Array } => {
  const bytes = randomBytes(size)
  return { hash: chunkId(bytes), size, bytes }
}
const record = (id: string, root: Uint8Array): BackupSnapshotRecord => ({
  id, deviceId: 'dev1', deviceName: 'laptop', user: 'ada@example.org', root: chunkIdHex(root), paths: ['/home'], startedAt: new Date(0),
  committedAt: new Date(0), counters: {}, received: { chunks: 0, bytes: 0 }
})
const file = (name: string, chunks: Array<{ hash: Uint8Array, size: number }>): Parameters<typeof encodeTree>[0][number] =>
  ({ name, type: 'file', mode: 0o644, mtimeMs: 1, size: chunks.reduce((n, c) => n + c.size, 0), chunks })

describe('garbage collection of the server\'s chunk store', () => {
  let dir: string
  let store: ChunkStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-gc-'))
    store = await openPackStore({ dir, dataKey: createSecretKey(randomBytes(32)) })
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('frees what only forgotten snapshots needed, and keeps what a snapshot, the central copy or a backup in progress needs', async () => {
    const shared = blob(1000); const onlyOld = blob(2000); const listed = blob(3000); const central = blob(4000); const inProgress = blob(5000)
    const list = encodeChunkList([listed])
    const listId = chunkId(list)
    const sub = encodeTree([{ name: 'big.bin', type: 'file', mode: 0o644, mtimeMs: 1, size: listed.size, lists: [listId] }])
    const liveRoot = encodeTree([file('a.txt', [shared]), { name: 'docs', type: 'dir', mode: 0o755, mtimeMs: 1, size: 0, tree: sub.id }])
    const oldRoot = encodeTree([file('a.txt', [shared]), file('b.txt', [onlyOld])])
    // A backup's parent, forgotten by retention while the backup that reuses it still runs.
    const openRoot = encodeTree([file('d.txt', [inProgress])])
    for (const b of [shared, onlyOld, listed, central, inProgress]) await store.put(b.hash, b.bytes)
    for (const t of [sub, liveRoot, oldRoot, openRoot]) await store.put(t.id, t.bytes)
    await store.put(listId, list)
    let swept = 0
    const init: ChunkGcInit = {
      store,
      snapshots: { listSnapshots: () => [record('live', liveRoot.id)] } as unknown as BackupStore,
      centralFiles: () => [{ folder: 'team', path: 'c.txt', version: 'kept', chunks: [central] }],
      openRoots: () => [chunkIdHex(openRoot.id)],
      onSwept: () => { swept++ },
      graceMs: 0
    }

    const report = await collectGarbage(init)

    expect(report).toMatchObject({ swept: 2, sweptBytes: onlyOld.size + oldRoot.bytes.byteLength, spared: 0, live: 8 })
    expect(report.skipped).toBeUndefined()
    expect(swept).toBe(1)
    expect(await store.has([onlyOld.hash, oldRoot.id])).toEqual([false, false])
    for (const b of [shared, listed, central, inProgress, { hash: sub.id, bytes: sub.bytes }, { hash: liveRoot.id, bytes: liveRoot.bytes }, { hash: openRoot.id, bytes: openRoot.bytes }, { hash: listId, bytes: list }]) {
      expect(Buffer.from((await store.get(b.hash))!)).toEqual(Buffer.from(b.bytes))
    }
    expect(await store.verify()).toEqual([])
  })

  it('sweeps nothing when a snapshot\'s directory object cannot be read: what it names is unknown', async () => {
    const garbage = blob(1000)
    await store.put(garbage.hash, garbage.bytes)
    const lost = encodeTree([file('x.txt', [blob(10)])])
    const init: ChunkGcInit = {
      store,
      snapshots: { listSnapshots: () => [record('broken', lost.id)] } as unknown as BackupStore,
      centralFiles: () => [],
      openRoots: () => [],
      graceMs: 0
    }
    const refused = collectGarbage(init)
    await expect(refused).rejects.toBeInstanceOf(GcRefusedError)
    await expect(refused).rejects.toThrow(/directory object .* of snapshot broken is not in the store; nothing was collected/)
    expect(await store.has([garbage.hash])).toEqual([true])
  })
})
