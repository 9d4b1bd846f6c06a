import { describe, expect, it } from 'vitest'
import { inParallel } from '../../src/util/in-parallel.ts'

/** Runs items of the given weights, each until told to finish, and records what ran together. */
function harness (weights: number[]) {
  const running = new Set<number>()
  const finish = new Map<number, () => void>()
  const together: number[][] = []
  const work = async (item: number): Promise<void> => {
    running.add(item)
    together.push([...running].sort((a, b) => a - b))
    await new Promise<void>(resolve => finish.set(item, resolve))
    running.delete(item)
  }
  /** Lets the pending promise callbacks run. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise(resolve => setImmediate(resolve))
  }
  const done = async (item: number): Promise<void> => {
    await settle()
    finish.get(item)?.()
    await settle()
  }
  return { items: weights.map((_, i) => i), running, together, work, done, settle }
}

describe('inParallel', () => {
  it('runs at most `count` items at once, in their order', async () => {
    const h = harness([1, 1, 1, 1])
    const all = inParallel(h.items, 2, h.work)
    await h.done(0)
    expect([...h.running]).toEqual([1, 2])
    await h.done(1)
    await h.done(2)
    await h.done(3)
    await all
    expect(Math.max(...h.together.map(t => t.length))).toBe(2)
  })

  it('starts an item only while the weight under way leaves room for it', async () => {
    const weights = [60, 60, 60, 10, 10, 200]
    const h = harness(weights)
    const all = inParallel(h.items, { count: 8, weight: { of: i => weights[i]!, max: 128 } }, h.work)
    await h.settle()
    expect([...h.running]).toEqual([0, 1])
    await h.done(0)
    // 60 + 60 + 10 fits no more than 128: the third 60 waits, the 10s may not overtake it.
    expect([...h.running].sort()).toEqual([1, 2])
    await h.done(1)
    expect([...h.running].sort()).toEqual([2, 3, 4])
    await h.done(2)
    await h.done(3)
    // Heavier than the whole allowance: it runs once it is alone.
    expect([...h.running]).toEqual([4])
    await h.done(4)
    expect([...h.running]).toEqual([5])
    await h.done(5)
    await all
    for (const set of h.together) {
      if (set.length > 1) expect(set.reduce((n, i) => n + weights[i]!, 0)).toBeLessThanOrEqual(128)
    }
  })

  it('throws the first error and starts nothing after it', async () => {
    const started: number[] = []
    await expect(inParallel([0, 1, 2, 3], { count: 1, weight: { of: () => 1, max: 4 } }, async (i) => {
      started.push(i)
      if (i === 1) throw new Error('item 1 failed')
    })).rejects.toThrow('item 1 failed')
    expect(started).toEqual([0, 1])
  })
})
