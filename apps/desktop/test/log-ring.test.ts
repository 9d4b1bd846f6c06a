import { describe, expect, it } from 'vitest'
import { LogRing } from '../src/node/log-ring.ts'

describe('the agent\'s recent log lines', () => {
  it('keeps the newest lines up to its bound, oldest first', () => {
    const ring = new LogRing(3)
    for (let i = 1; i <= 5; i++) ring.add(`line ${i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, i)))
    expect(ring.after().map(l => l.text)).toEqual(['line 3', 'line 4', 'line 5'])
    expect(ring.after()[0]).toEqual({ seq: 3, at: '2026-01-01T00:00:03.000Z', text: 'line 3' })
  })

  it('gives only the lines after the last one a reader has', () => {
    const ring = new LogRing(10)
    ring.add('a')
    ring.add('b')
    ring.add('c')
    expect(ring.after(2).map(l => l.text)).toEqual(['c'])
    expect(ring.after(3)).toEqual([])
    // A reader who fell behind the bound gets what is still kept.
    const small = new LogRing(2)
    for (const t of ['a', 'b', 'c', 'd']) small.add(t)
    expect(small.after(1).map(l => l.text)).toEqual(['c', 'd'])
  })
})
