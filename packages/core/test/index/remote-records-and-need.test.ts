import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError, ProtocolError } from '../../src/errors.ts'
import { compareVersions } from '../../src/index/index.ts'
import type { FileRecord, FolderIndex } from '../../src/index/index.ts'
import { announce, DEVICE_A, DEVICE_B, DEVICE_C, file, tempIndexes, tombstone } from './fixtures.ts'

const F = 'docs'

describe('remote records and what a device needs', () => {
  let temp: ReturnType<typeof tempIndexes>
  let a: FolderIndex
  let b: FolderIndex

  beforeEach(() => {
    temp = tempIndexes()
    a = temp.open(DEVICE_A)
    b = temp.open(DEVICE_B)
  })

  afterEach(() => temp.cleanup())

  /** What the sync layer does on connect: each side sends what the other has not seen. */
  const exchange = (): void => {
    b.applyRemote(F, DEVICE_A, a.localSince(F, b.remoteSequence(F, DEVICE_A), 1_000_000))
    a.applyRemote(F, DEVICE_B, b.localSince(F, a.remoteSequence(F, DEVICE_B), 1_000_000))
  }

  const withoutDevice = (g: ReturnType<FolderIndex['globalRecord']>) => g === undefined ? undefined : { winner: g.winner, conflicts: g.conflicts.map(c => c.record) }

  it('needs a file only a peer has, and remembers how far the peer has sent', () => {
    a.updateLocal(F, [file('x'), file('y')])
    exchange()
    expect(b.remoteSequence(F, DEVICE_A)).toBe(2)
    expect(b.need(F).map(n => [n.path, n.device])).toEqual([['x', DEVICE_A], ['y', DEVICE_A]])
    expect(a.need(F)).toEqual([])
  })

  it('drops a peer\'s records when its index id changes (its database was rebuilt), and not otherwise', () => {
    const id = a.localIndexId(F)
    expect(a.localIndexId(F)).toBe(id)
    a.updateLocal(F, [file('x')])
    b.useRemoteIndexId(F, DEVICE_A, id)
    exchange()
    b.useRemoteIndexId(F, DEVICE_A, id)
    expect(b.remoteSequence(F, DEVICE_A)).toBe(1)
    expect(b.need(F).map(n => n.path)).toEqual(['x'])

    b.useRemoteIndexId(F, DEVICE_A, 'rebuilt')
    expect(b.remoteIndexId(F, DEVICE_A)).toBe('rebuilt')
    expect(b.remoteSequence(F, DEVICE_A)).toBe(0)
    expect(b.need(F)).toEqual([])
  })

  it('needs a newer remote version but not an older one', () => {
    a.updateLocal(F, [file('x')])
    exchange()
    b.adoptRemote(F, b.need(F)[0]!.winner)
    exchange()
    b.updateLocal(F, [file('x', ['edited on b'])])
    exchange()
    expect(a.need(F).map(n => n.path)).toEqual(['x'])
    expect(a.need(F)[0]?.winner.modifiedBy).toBe(DEVICE_B)
    // b is newer than what a announced, so b needs nothing.
    expect(b.need(F)).toEqual([])
    expect(b.globalRecord(F, 'x')?.device).toBe('local')
  })

  it('reports concurrent changes as a conflict and picks the same winner on both devices', () => {
    a.updateLocal(F, [file('x', ['from a'], 2_000)])
    b.updateLocal(F, [file('x', ['from b'], 1_000)])
    exchange()
    const onA = a.globalRecord(F, 'x')
    const onB = b.globalRecord(F, 'x')
    expect(withoutDevice(onA)).toEqual(withoutDevice(onB))
    expect(onA?.winner.modifiedBy).toBe(DEVICE_A) // the later mtime
    expect(onA?.device).toBe('local')
    expect(onB?.device).toBe(DEVICE_A)
    expect(onB?.conflicts).toEqual([{ device: 'local', record: b.getLocal(F, 'x') && stripInode(b.getLocal(F, 'x')!) }])
    expect(a.need(F)).toEqual([])
    expect(b.need(F).map(n => [n.path, n.device])).toEqual([['x', DEVICE_A]])
  })

  it('breaks an mtime tie by the larger modifiedBy, on both devices', () => {
    a.updateLocal(F, [file('x', ['from a'], 1_000)])
    b.updateLocal(F, [file('x', ['from b'], 1_000)])
    exchange()
    expect(a.globalRecord(F, 'x')?.winner.modifiedBy).toBe(DEVICE_B)
    expect(b.globalRecord(F, 'x')?.winner.modifiedBy).toBe(DEVICE_B)
    expect(a.need(F).map(n => n.path)).toEqual(['x'])
  })

  it('lets an edit win over a concurrent deletion, whatever the times', () => {
    a.updateLocal(F, [file('x')])
    exchange()
    b.adoptRemote(F, b.need(F)[0]!.winner)
    a.updateLocal(F, [tombstone('x', 9_000_000_000_000)])
    b.updateLocal(F, [file('x', ['kept'], 1)])
    exchange()
    expect(a.globalRecord(F, 'x')?.winner.deleted).toBe(false)
    expect(b.globalRecord(F, 'x')?.winner.deleted).toBe(false)
    expect(a.need(F).map(n => n.path)).toEqual(['x'])
  })

  it('needs nothing once the winner is adopted, on either side', () => {
    a.updateLocal(F, [file('x', ['from a'], 2_000), file('y')])
    b.updateLocal(F, [file('x', ['from b'], 1_000)])
    exchange()
    for (const { winner } of b.need(F)) b.adoptRemote(F, winner)
    expect(b.need(F)).toEqual([])
    const adopted = b.getLocal(F, 'x')!
    expect(compareVersions(adopted.version, a.getLocal(F, 'x')!.version)).toBe('equal')
    expect(adopted.sequence).toBe(2)
    exchange()
    expect(a.need(F)).toEqual([])
    expect(b.need(F)).toEqual([])
    expect(b.globalRecord(F, 'x')?.conflicts).toEqual([])
    // Adopting the same version again changes nothing.
    b.adoptRemote(F, a.getLocal(F, 'x')!)
    expect(b.localSequence(F)).toBe(3)
  })

  it('takes the peer\'s version when the scanner sees what the puller just wrote', () => {
    a.updateLocal(F, [file('x', ['v1'])])
    exchange()
    b.adoptRemote(F, b.need(F)[0]!.winner)
    a.updateLocal(F, [file('x', ['v2'], 5_000)])
    exchange()
    // The puller wrote v2 and the watcher fired before adoptRemote.
    const [seen] = b.updateLocal(F, [file('x', ['v2'], 5_000)])
    expect(compareVersions(seen!.version, a.getLocal(F, 'x')!.version)).toBe('equal')
    expect(seen?.modifiedBy).toBe(DEVICE_A)
    exchange()
    expect(a.need(F)).toEqual([])
    expect(a.globalRecord(F, 'x')?.conflicts).toEqual([])
  })

  it('refuses to adopt a version older than the local one', () => {
    a.updateLocal(F, [file('x')])
    exchange()
    const old = b.need(F)[0]!.winner
    b.adoptRemote(F, old)
    b.updateLocal(F, [file('x', ['newer'])])
    expect(() => b.adoptRemote(F, old)).toThrow(InvalidInputError)
  })

  it('needs a peer\'s deletion of a file it has', () => {
    a.updateLocal(F, [file('x')])
    exchange()
    b.adoptRemote(F, b.need(F)[0]!.winner)
    a.updateLocal(F, [tombstone('x')])
    exchange()
    expect(b.need(F).map(n => [n.path, n.winner.deleted])).toEqual([['x', true]])
    b.adoptRemote(F, b.need(F)[0]!.winner)
    expect(b.getLocal(F, 'x')?.deleted).toBe(true)
    expect(b.need(F)).toEqual([])
  })

  it('adopts a puller\'s batch in one call, all or nothing', () => {
    a.updateLocal(F, [file('x'), file('y'), file('z')])
    exchange()
    b.updateLocal(F, [file('z', ['edited on b after'], 9_000_000_000_000)])
    const needed = b.need(F).map(n => n.winner)
    expect(needed.map(r => r.path)).toEqual(['x', 'y'])
    const stale = a.getLocal(F, 'z')!
    // z's local version on b is concurrent, not newer, so it may be adopted; an older one may not.
    b.adoptRemotes(F, [needed[0]!, stale])
    b.updateLocal(F, [file('z', ['edited again'])])
    const sequence = b.localSequence(F)
    expect(() => b.adoptRemotes(F, [needed[1]!, stale])).toThrow(/newer than the one being adopted/)
    expect(b.localSequence(F)).toBe(sequence)
    expect(b.getLocal(F, 'y')).toBeUndefined()
    expect(b.adoptRemotes(F, [needed[1]!]).map(r => r.sequence)).toEqual([sequence + 1])
  })

  it('does not need a deletion of a file it never had', () => {
    a.updateLocal(F, [file('x')])
    a.updateLocal(F, [tombstone('x')])
    exchange()
    expect(b.need(F)).toEqual([])
    expect(b.globalRecord(F, 'x')?.winner.deleted).toBe(true)
  })

  it('applies a resend idempotently and ignores what is older than what it holds', () => {
    a.updateLocal(F, [file('x'), file('y')])
    const first = announce(a, F)
    a.updateLocal(F, [file('x', ['edited'])])
    b.applyRemote(F, DEVICE_A, announce(a, F))
    b.applyRemote(F, DEVICE_A, announce(a, F))
    b.applyRemote(F, DEVICE_A, first)
    expect(b.remoteSequence(F, DEVICE_A)).toBe(3)
    expect(b.globalRecord(F, 'x')?.winner.sequence).toBe(3)
  })

  it('rejects a peer that reuses a sequence number or sends them out of order', () => {
    a.updateLocal(F, [file('x'), file('y')])
    const [x, y] = announce(a, F) as [FileRecord, FileRecord]
    b.applyRemote(F, DEVICE_A, [x, y])
    expect(() => b.applyRemote(F, DEVICE_A, [{ ...x, mtimeMs: 42 }])).toThrow(ProtocolError)
    expect(() => b.applyRemote(F, DEVICE_A, [{ ...y, sequence: 7 }, { ...x, sequence: 5 }])).toThrow(/must increase/)
    expect(() => b.applyRemote(F, DEVICE_A, [{ ...x, sequence: 0 }])).toThrow(ProtocolError)
    expect(() => b.applyRemote(F, DEVICE_A, [{ ...x, sequence: 9, version: {} }])).toThrow(/version is empty/)
    expect(() => b.applyRemote(F, DEVICE_B, [x])).toThrow(InvalidInputError)
    expect(b.remoteSequence(F, DEVICE_A)).toBe(2)
  })

  it('forgets a peer\'s records', () => {
    a.updateLocal(F, [file('x')])
    exchange()
    b.forgetRemote(F, DEVICE_A)
    expect(b.remoteSequence(F, DEVICE_A)).toBe(0)
    expect(b.need(F)).toEqual([])
    expect(b.globalRecord(F, 'x')).toBeUndefined()
  })

  it('decides among three devices and lists each concurrent loser once', () => {
    const c = temp.open(DEVICE_C)
    a.updateLocal(F, [file('x', ['a'], 3_000)])
    b.updateLocal(F, [file('x', ['b'], 2_000)])
    c.updateLocal(F, [file('x', ['c'], 1_000)])
    for (const [from, id] of [[a, DEVICE_A], [b, DEVICE_B]] as const) c.applyRemote(F, id, announce(from, F))
    const g = c.globalRecord(F, 'x')
    expect(g?.device).toBe(DEVICE_A)
    expect(g?.conflicts.map(x => x.device)).toEqual([DEVICE_B, 'local'])
  })
})

function stripInode (record: FileRecord & { inode?: number }): FileRecord {
  const { inode: _inode, ...rest } = record
  return rest
}
