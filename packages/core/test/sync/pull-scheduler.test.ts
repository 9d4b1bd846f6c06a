import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PullScheduler } from '../../src/sync/pull-scheduler.ts'

// A folder whose pulls keep leaving work undone (a chunk no connected member has) is tried
// again later and later while nothing changes, up to a ceiling; a change starts over at once.

describe('PullScheduler retries', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  /** A scheduler whose pulls all leave work undone; `at` holds when each pull ran (fake ms). */
  function failing (maxRetryMs?: number): { pulls: PullScheduler, at: number[] } {
    const at: number[] = []
    const pulls = new PullScheduler({
      pull: async () => { at.push(Date.now()); return true },
      debounceMs: 50,
      retryMs: 1000,
      ...(maxRetryMs === undefined ? {} : { maxRetryMs })
    })
    return { pulls, at }
  }
  const gaps = (at: number[]): number[] => at.slice(1).map((t, i) => t - at[i]!)

  it('waits twice as long after each pull that left work undone, up to the ceiling, and says when', async () => {
    const { pulls, at } = failing(8000)
    pulls.schedule('f')
    expect(pulls.nextRetry('f')).toBeUndefined()
    await vi.advanceTimersByTimeAsync(60)
    // The first pull left work undone: status can say when the next one is due.
    expect(pulls.nextRetry('f')?.getTime()).toBe(at[0]! + 1000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(gaps(at).slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 8000, 8000])
    expect(pulls.nextRetry('f')?.getTime()).toBe(at.at(-1)! + 8000)
    await pulls.stop()
  })

  it('starts over at the first wait when something changes', async () => {
    const { pulls, at } = failing()
    pulls.schedule('f')
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 100)
    expect(at).toHaveLength(4)
    // A peer's records arrive: a pull after the debounce, and the next retry one first wait after it.
    const changedAt = Date.now()
    pulls.schedule('f')
    await vi.advanceTimersByTimeAsync(50 + 1000 + 10)
    expect(at).toHaveLength(6)
    expect(at[4]! - changedAt).toBe(50)
    expect(at[5]! - at[4]!).toBe(1000)
    await pulls.stop()
  })

  it('a pull that finishes its work clears the count: the next failure waits the first wait again', async () => {
    const at: number[] = []
    let left = [true, true, true, false, true, true]
    const pulls = new PullScheduler({ pull: async () => { at.push(Date.now()); return left.shift() ?? false }, debounceMs: 50, retryMs: 1000 })
    pulls.schedule('f')
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 100)
    expect(at).toHaveLength(4) // the fourth pull finished its work: no retry is due
    pulls.schedule('f')
    await vi.advanceTimersByTimeAsync(50 + 1000 + 2000 + 100)
    expect(gaps(at).slice(4)).toEqual([1000, 2000])
    left = []
    await pulls.stop()
  })
})
