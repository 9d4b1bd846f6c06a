/** How much of `items` may be under way at once. */
export interface ParallelLimit<T> {
  /** Items at once. */
  count: number
  /** And their weight at once (say, bytes); an item heavier than this runs alone. */
  weight?: { of: (item: T) => number, max: number }
}

/**
 * Runs `work` over `items` in their order, at most `limit` at a time (a count, or a count and a
 * weight); the first error stops new work and is thrown.
 */
export async function inParallel<T> (items: readonly T[], limit: number | ParallelLimit<T>, work: (item: T) => Promise<void>): Promise<void> {
  const { count, weight } = typeof limit === 'number' ? { count: limit, weight: undefined } : limit
  let next = 0
  let failure: unknown
  let running = 0
  let load = 0
  let waiting: Array<() => void> = []
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const heft = weight === undefined ? 0 : Math.min(weight.of(items[next] as T), weight.max)
      if (weight !== undefined && running > 0 && load + heft > weight.max) {
        await new Promise<void>(resolve => waiting.push(resolve))
        continue
      }
      const item = items[next++] as T
      running++
      load += heft
      try {
        await work(item)
      } catch (err) {
        failure ??= err
      } finally {
        running--
        load -= heft
        const woken = waiting
        waiting = []
        for (const wake of woken) wake()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(count, items.length) }, worker))
  if (failure !== undefined) throw failure
}
