import { describe, expect, it } from 'vitest'
import { TransferRates } from '../src/common/transfer-rate.ts'

describe('transfer rate and time left', () => {
  it('is the bytes done over the last seconds, and the time the rest takes at that rate', () => {
    const rates = new TransferRates()
    rates.record('docs', 0, 0)
    rates.record('docs', 1_000_000, 1_000)
    rates.record('docs', 2_000_000, 2_000)
    expect(rates.estimate('docs', 10_000_000, 2_000)).toEqual({ bytesPerSecond: 1_000_000, etaSeconds: 8 })
  })

  it('falls while nothing arrives, and then gives no time left', () => {
    const rates = new TransferRates()
    rates.record('docs', 0, 0)
    rates.record('docs', 4_000, 1_000)
    expect(rates.estimate('docs', 8_000, 4_000)!.bytesPerSecond).toBe(1_000)
    rates.record('docs', 4_000, 30_000)
    rates.record('docs', 4_000, 31_000)
    expect(rates.estimate('docs', 8_000, 31_000)).toEqual({ bytesPerSecond: 0 })
  })

  it('starts again with a new pull, and knows nothing of a folder it has not seen', () => {
    const rates = new TransferRates()
    rates.record('docs', 0, 0)
    rates.record('docs', 5_000, 1_000)
    rates.record('docs', 100, 2_000)
    expect(rates.estimate('docs', 1_000, 2_000)).toEqual({ bytesPerSecond: 0 })
    rates.forget('docs')
    expect(rates.estimate('docs', 1_000, 3_000)).toBeUndefined()
  })
})
