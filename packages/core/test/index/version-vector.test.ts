import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bumpVersion, compareVersions, mergeVersions } from '../../src/index/index.ts'
import { decodeVersion, encodeVersion } from '../../src/index/version-vector.ts'

const devices = ['a', 'b', 'c', 'd', '__proto__', 'toString']
const vector = fc.dictionary(fc.constantFrom(...devices), fc.nat({ max: 20 }))
const opposite = { equal: 'equal', newer: 'older', older: 'newer', concurrent: 'concurrent' } as const

describe('version vectors', () => {
  it('compare is antisymmetric', () => {
    fc.assert(fc.property(vector, vector, (a, b) => {
      expect(compareVersions(b, a)).toBe(opposite[compareVersions(a, b)])
    }))
  })

  it('treats a missing device as counter 0', () => {
    expect(compareVersions({ a: 1, b: 0 }, { a: 1 })).toBe('equal')
    expect(compareVersions({ a: 1, b: 1 }, { a: 1 })).toBe('newer')
    expect(compareVersions({ a: 1 }, { b: 1 })).toBe('concurrent')
    expect(compareVersions({}, { toString: 1 })).toBe('older')
  })

  it('merge dominates both and is the same either way round', () => {
    fc.assert(fc.property(vector, vector, (a, b) => {
      const merged = mergeVersions(a, b)
      expect(['newer', 'equal']).toContain(compareVersions(merged, a))
      expect(['newer', 'equal']).toContain(compareVersions(merged, b))
      expect(compareVersions(merged, mergeVersions(b, a))).toBe('equal')
    }))
  })

  it('bump makes a newer vector, at least the current second', () => {
    fc.assert(fc.property(vector, fc.constantFrom(...devices), fc.integer({ min: 0, max: 4e12 }), (v, device, now) => {
      const bumped = bumpVersion(v, device, now)
      expect(compareVersions(bumped, v)).toBe('newer')
      expect(bumped[device]).toBeGreaterThanOrEqual(Math.floor(now / 1000))
      expect(Object.getPrototypeOf(bumped)).toBe(Object.prototype)
    }))
    expect(bumpVersion({ a: 5 }, 'a', 0)).toEqual({ a: 6 })
    expect(bumpVersion({ a: 5 }, 'b', 7_000)).toEqual({ a: 5, b: 7 })
  })

  it('encodes equal vectors to the same text', () => {
    fc.assert(fc.property(vector, vector, (a, b) => {
      expect(encodeVersion(a) === encodeVersion(b)).toBe(compareVersions(a, b) === 'equal')
      expect(compareVersions(decodeVersion(encodeVersion(a)), a)).toBe('equal')
    }))
  })
})
