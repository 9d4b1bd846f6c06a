import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../src/errors.ts'
import { chunkId, chunkIdFromHex, chunkIdHex } from '../../src/chunking/index.ts'

describe('chunk ids', () => {
  it('are the SHA-256 of the chunk bytes', () => {
    expect(chunkIdHex(chunkId(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('round-trip through hex, in either case', () => {
    const id = chunkId(new Uint8Array([1, 2, 3]))
    expect(chunkIdFromHex(chunkIdHex(id))).toEqual(id)
    expect(chunkIdFromHex(chunkIdHex(id).toUpperCase())).toEqual(id)
  })

  it('refuse hex that is not exactly 64 hex digits instead of truncating it', () => {
    const good = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    for (const bad of ['', good.slice(1), good + '0', good.slice(0, 63) + 'g', ` ${good.slice(1)}`, good.replace('b', 'x')]) {
      expect(() => chunkIdFromHex(bad)).toThrow(InvalidInputError)
    }
  })

  it('refuse to print something that is not 32 bytes', () => {
    expect(() => chunkIdHex(new Uint8Array(31))).toThrow(InvalidInputError)
  })
})
