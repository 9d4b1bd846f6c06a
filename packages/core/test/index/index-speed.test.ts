import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FolderIndex, LocalChange } from '../../src/index/index.ts'
import { announce, DEVICE_A, DEVICE_B, tempIndexes } from './fixtures.ts'

// A sanity print, not a benchmark: tests never assert a timing.
const FILES = 100_000

function smallFiles (count: number, mtimeMs: number): LocalChange[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `dir${i % 100}/file${i}.txt`, type: 'file', size: 1000, mtimeMs, mode: 0o644, deleted: false, chunks: [{ hash: randomBytes(32), size: 1000 }]
  }))
}

function timed<T> (label: string, work: () => T): T {
  const start = performance.now()
  const result = work()
  console.log(`folder index: ${label}: ${(performance.now() - start).toFixed(0)} ms`)
  return result
}

describe('folder index at 100k files', () => {
  let temp: ReturnType<typeof tempIndexes>
  let a: FolderIndex
  let b: FolderIndex

  beforeAll(() => {
    temp = tempIndexes()
    a = temp.open(DEVICE_A)
    b = temp.open(DEVICE_B)
  })

  afterAll(() => temp.cleanup())

  it('records, exchanges and decides 100k files', () => {
    const changes = smallFiles(FILES, 1_700_000_000_000)
    expect(timed(`updateLocal of ${FILES} new files`, () => a.updateLocal('f', changes))).toHaveLength(FILES)
    expect(timed(`updateLocal of ${FILES} unchanged files`, () => a.updateLocal('f', changes))).toHaveLength(0)
    const records = timed('localSince of all', () => announce(a, 'f'))
    timed(`applyRemote of ${FILES} records`, () => b.applyRemote('f', DEVICE_A, records))
    const needed = timed(`need() with ${FILES} needed`, () => b.need('f'))
    expect(needed).toHaveLength(FILES)
    timed('adoptRemote of 1000 one by one (a transaction each)', () => { for (const { winner } of needed.slice(0, 1000)) b.adoptRemote('f', winner) })
    timed(`adoptRemotes of the other ${FILES - 1000} in one call`, () => b.adoptRemotes('f', needed.slice(1000).map(n => n.winner)))
    expect(timed(`need() with ${FILES} in sync`, () => b.need('f'))).toHaveLength(0)
    timed(`findChunk x 10000`, () => { for (const r of records.slice(0, 10_000)) b.findChunk(r.chunks[0]!.hash) })
    const edits = smallFiles(FILES, 1_800_000_000_000)
    timed(`updateLocal of ${FILES} changed files (with a peer)`, () => b.updateLocal('f', edits))
  })
})
