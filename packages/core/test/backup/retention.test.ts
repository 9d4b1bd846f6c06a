import { describe, expect, it } from 'vitest'
import { chooseSnapshots } from '../../src/backup/retention.ts'
import type { BackupRetention } from '../../src/backup/retention.ts'

const none: BackupRetention = { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0 }
const at = (iso: string): { id: string, time: Date } => ({ id: iso, time: new Date(iso) })

describe('which snapshots a retention policy keeps (restic forget semantics)', () => {
  it('keeps everything when the policy keeps nothing', () => {
    const snaps = [at('2030-01-01T00:00:00Z'), at('2030-01-02T00:00:00Z')]
    expect(chooseSnapshots(snaps, none).forget).toEqual([])
  })

  it('keeps the newest N for last, whatever order they come in', () => {
    const snaps = [at('2030-01-03T00:00:00Z'), at('2030-01-01T00:00:00Z'), at('2030-01-02T00:00:00Z')]
    const choice = chooseSnapshots(snaps, { ...none, last: 2 })
    expect([...choice.keep.keys()].sort()).toEqual(['2030-01-02T00:00:00Z', '2030-01-03T00:00:00Z'])
    expect(choice.forget).toEqual(['2030-01-01T00:00:00Z'])
  })

  it('keeps the newest snapshot of each of the last N days that have one, skipping empty days', () => {
    const snaps = [
      at('2030-01-01T08:00:00Z'), at('2030-01-01T20:00:00Z'),
      at('2030-01-03T09:00:00Z'), at('2030-01-03T10:00:00Z'), at('2030-01-03T11:00:00Z'),
      at('2030-01-04T00:30:00Z')
    ]
    const choice = chooseSnapshots(snaps, { ...none, daily: 3 })
    expect([...choice.keep.keys()]).toEqual(['2030-01-04T00:30:00Z', '2030-01-03T11:00:00Z', '2030-01-01T20:00:00Z'])
    expect(choice.forget).toEqual(['2030-01-01T08:00:00Z', '2030-01-03T09:00:00Z', '2030-01-03T10:00:00Z'])
  })

  it('buckets hours, ISO weeks (across a year end) and months', () => {
    const snaps = [
      at('2029-12-30T12:00:00Z'), // Sunday: ISO week 52 of 2029
      at('2029-12-31T12:00:00Z'), // Monday: ISO week 1 of 2030
      at('2030-01-05T12:00:00Z'), // Saturday, same week 1
      at('2030-01-05T12:30:00Z')
    ]
    expect([...chooseSnapshots(snaps, { ...none, weekly: 5 }).keep.keys()]).toEqual(['2030-01-05T12:30:00Z', '2029-12-30T12:00:00Z'])
    expect([...chooseSnapshots(snaps, { ...none, hourly: 2 }).keep.keys()]).toEqual(['2030-01-05T12:30:00Z', '2029-12-31T12:00:00Z'])
    expect([...chooseSnapshots(snaps, { ...none, monthly: 1 }).keep.keys()]).toEqual(['2030-01-05T12:30:00Z'])
  })

  it('keeps a snapshot any rule keeps, and says which rules keep it', () => {
    const snaps = Array.from({ length: 48 }, (_, h) => at(new Date(Date.UTC(2030, 0, 1, h)).toISOString()))
    const choice = chooseSnapshots(snaps, { ...none, last: 3, daily: 2, monthly: 1 })
    expect(choice.keep.get('2030-01-02T23:00:00.000Z')).toEqual(['last', 'daily', 'monthly'])
    expect(choice.keep.get('2030-01-01T23:00:00.000Z')).toEqual(['daily'])
    expect(choice.keep.size).toBe(4)
    expect(choice.forget).toHaveLength(44)
    expect(choice.forget[0]).toBe('2030-01-01T00:00:00.000Z')
  })
})
