import { describe, expect, it } from 'vitest'
import { TokenBucket } from '../../src/util/token-bucket.ts'

/** A clock the test moves: sleeping advances it by exactly what was asked. */
function fakeClock (): { now: () => number, sleep: (ms: number) => Promise<void>, slept: number[] } {
  let t = 1_000_000
  const slept: number[] = []
  return { now: () => t, sleep: async (ms) => { slept.push(ms); t += ms }, slept }
}

describe('the bandwidth token bucket', () => {
  it('lets a second\'s worth go at once, then makes takers wait at the rate', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket({ rate: 1024, ...clock })
    await bucket.take(1024)
    expect(clock.slept).toEqual([])
    await bucket.take(512)
    expect(clock.slept).toEqual([500])
    await bucket.take(2048)
    expect(clock.slept).toEqual([500, 2000])
    expect(bucket.stats()).toEqual({ bytes: 3584, delayedBytes: 2560, waits: 2, waitedMs: 2500, rate: 1024 })
  })

  it('sends 4 MiB at 1 MiB/s in no less than 3 s of waiting, however it is cut', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket({ rate: 1024 * 1024, ...clock })
    for (let i = 0; i < 64; i++) await bucket.take(64 * 1024)
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeCloseTo(3000, 5)
  })

  it('shares the rate among concurrent takers', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket({ rate: 1000, ...clock, sleep: async (ms) => { clock.slept.push(ms) } })
    await Promise.all([bucket.take(1000), bucket.take(1000), bucket.take(1000)])
    // The second waits one second, the third two: together no faster than the rate.
    expect(clock.slept).toEqual([1000, 2000])
  })

  it('refills with time, never beyond one second\'s worth', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket({ rate: 1000, ...clock })
    await bucket.take(1000)
    await clock.sleep(10_000)
    clock.slept.length = 0
    await bucket.take(1000)
    await bucket.take(500)
    expect(clock.slept).toEqual([500])
  })

  it('has no limit at rate 0, and a new rate applies at once', async () => {
    const clock = fakeClock()
    const bucket = new TokenBucket({ rate: 0, ...clock })
    await bucket.take(10 * 1024 * 1024)
    expect(clock.slept).toEqual([])
    bucket.setRate(100)
    await bucket.take(300)
    expect(clock.slept).toEqual([2000])
    bucket.setRate(0)
    await bucket.take(1e9)
    expect(bucket.stats()).toMatchObject({ waits: 1, delayedBytes: 300, rate: 0 })
  })
})
