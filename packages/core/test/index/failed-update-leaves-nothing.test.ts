import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError, ProtocolError } from '../../src/errors.ts'
import type { FileRecord, FolderIndex } from '../../src/index/index.ts'
import { announce, chunk, DEVICE_A, DEVICE_B, file, tempIndexes } from './fixtures.ts'

const F = 'docs'

describe('a failure in the middle of an update', () => {
  let temp: ReturnType<typeof tempIndexes>
  let index: FolderIndex

  beforeEach(() => {
    temp = tempIndexes()
    index = temp.open(DEVICE_A)
    index.updateLocal(F, [file('kept', ['old'])])
  })

  afterEach(() => temp.cleanup())

  const snapshot = () => ({
    sequence: index.localSequence(F),
    files: [...index.localFiles(F)],
    remote: index.remoteSequence(F, DEVICE_B),
    need: index.need(F),
    oldChunk: index.findChunk(chunk('old').hash),
    newChunk: index.findChunk(chunk('new').hash)
  })

  /** Makes SQLite itself fail partway (as a full disk would), from a second connection. */
  const failWhenWriting = (table: 'files' | 'chunks', path: string): DatabaseSync => {
    const db = new DatabaseSync(join(temp.dir, `${DEVICE_A}.sqlite`))
    db.exec(`CREATE TRIGGER fail_${table} BEFORE INSERT ON ${table} WHEN NEW.path = '${path}'
      BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END`)
    return db
  }

  it('leaves the index as it was when a later change in the batch is bad', () => {
    const before = snapshot()
    expect(() => index.updateLocal(F, [file('kept', ['new']), file('other'), { ...file('x'), path: '../escape' }])).toThrow(InvalidInputError)
    expect(snapshot()).toEqual(before)
  })

  it('leaves the index as it was when SQLite fails between a record and its chunks', () => {
    const before = snapshot()
    const db = failWhenWriting('chunks', 'boom')
    expect(() => index.updateLocal(F, [file('kept', ['new']), file('boom', ['new'])])).toThrow(/simulated disk full/)
    expect(snapshot()).toEqual(before)

    // Once the disk has room again, the same update goes through with the next numbers.
    db.exec('DROP TRIGGER fail_chunks')
    db.close()
    expect(index.updateLocal(F, [file('kept', ['new']), file('boom', ['new'])]).map(r => r.sequence)).toEqual([2, 3])
  })

  it('keeps none of a peer\'s batch when one record is bad', () => {
    using peer = temp.open(DEVICE_B)
    peer.updateLocal(F, [file('p1'), file('p2'), file('p3')])
    const [p1, p2, p3] = announce(peer, F) as [FileRecord, FileRecord, FileRecord]
    const before = snapshot()
    expect(() => index.applyRemote(F, DEVICE_B, [p1, p2, { ...p3, chunks: [] }])).toThrow(ProtocolError)
    expect(snapshot()).toEqual(before)
    expect(index.globalRecord(F, 'p1')).toBeUndefined()
  })

  it('keeps the old local record when adopting fails', () => {
    using peer = temp.open(DEVICE_B)
    peer.updateLocal(F, [file('kept', ['new'], 2_000_000_000_000)])
    index.applyRemote(F, DEVICE_B, announce(peer, F))
    const before = snapshot()
    const db = failWhenWriting('chunks', 'kept')
    expect(() => index.adoptRemote(F, index.need(F)[0]!.winner)).toThrow(/simulated disk full/)
    db.close()
    expect(snapshot()).toEqual(before)
  })
})
