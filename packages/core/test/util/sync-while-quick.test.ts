import { describe, expect, it } from 'vitest'
import { SyncWhileQuick } from '../../src/util/sync-while-quick.ts'

describe('sync while quick', () => {
  /** A clock the test moves: each run of calls takes `step` ms. */
  const clocked = () => {
    const time = { now: 0, step: 1 }
    const calls = new SyncWhileQuick({ now: () => (time.now += time.step / 2) })
    return { time, calls }
  }

  it('runs calls synchronously, returns what they return and passes on what they throw', () => {
    const { calls } = clocked()
    expect(calls.quick).toBe(true)
    expect(calls.run(() => 42)).toBe(42)
    expect(() => calls.run(() => { throw new Error('EACCES') })).toThrow('EACCES')
    expect(calls.quick).toBe(true)
  })

  it('goes through the pool for 10 s after two slow runs in a row, not after one', () => {
    const { time, calls } = clocked()
    time.step = 50
    calls.run(() => undefined)
    time.step = 1
    calls.run(() => undefined)
    time.step = 50
    calls.run(() => undefined)
    expect(calls.quick).toBe(true)
    // A slow run that throws (a disk error after a long wait) counts as slow too.
    expect(() => calls.run(() => { throw new Error('EIO') })).toThrow('EIO')
    time.step = 1
    expect(calls.quick).toBe(false)
    time.now += 9_000
    expect(calls.quick).toBe(false)
    time.now += 1_100
    expect(calls.quick).toBe(true)
  })
})
