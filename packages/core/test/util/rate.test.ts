import { describe, expect, it } from 'vitest'
import { InvalidInputError, parseRate } from '../../src/basics.ts'

describe('parseRate', () => {
  it('reads bytes per second with binary units, and off as no limit', () => {
    expect(parseRate('500')).toBe(500)
    expect(parseRate('500K')).toBe(512_000)
    expect(parseRate('2M')).toBe(2 * 1024 ** 2)
    expect(parseRate('1.5 MiB/s')).toBe(1.5 * 1024 ** 2)
    expect(parseRate('1g')).toBe(1024 ** 3)
    expect(parseRate('off')).toBe(0)
    expect(parseRate('0')).toBe(0)
  })

  it('refuses what is not a rate, saying how to write one', () => {
    for (const text of ['', 'fast', '-1M', '2T', '1M/h']) expect(() => parseRate(text)).toThrow(InvalidInputError)
    expect(() => parseRate('fast')).toThrow(/give bytes per second, e.g. 500K or 2M \(binary units\), or off/)
  })
})
