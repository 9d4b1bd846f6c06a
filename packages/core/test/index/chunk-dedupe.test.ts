import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../src/errors.ts'
import type { FolderIndex } from '../../src/index/index.ts'
import { announce, chunk, DEVICE_A, DEVICE_B, file, tempIndexes, tombstone } from './fixtures.ts'

describe('finding a chunk for dedupe', () => {
  let temp: ReturnType<typeof tempIndexes>
  let index: FolderIndex

  beforeEach(() => {
    temp = tempIndexes()
    index = temp.open(DEVICE_A)
  })

  afterEach(() => temp.cleanup())

  it('finds a chunk at its offset in every folder that has it', () => {
    index.updateLocal('docs', [file('report.txt', ['head-', 'shared', '-tail'])])
    index.updateLocal('photos', [file('copy.txt', ['shared']), file('other', ['x'])])
    expect(index.findChunk(chunk('shared').hash)).toEqual([
      { folder: 'docs', path: 'report.txt', offset: 5, size: 6 },
      { folder: 'photos', path: 'copy.txt', offset: 0, size: 6 }
    ])
    expect(index.findChunk(chunk('nowhere').hash)).toEqual([])
  })

  it('lists a chunk repeated inside one file at each offset', () => {
    index.updateLocal('docs', [file('twice', ['ab', 'ab'])])
    expect(index.findChunk(chunk('ab').hash).map(c => c.offset)).toEqual([0, 2])
  })

  it('forgets chunks of a file that was deleted, changed or whose folder was removed', () => {
    index.updateLocal('docs', [file('a', ['one']), file('b', ['two']), file('c', ['three'])])
    index.updateLocal('docs', [tombstone('a'), file('b', ['two-changed'])])
    expect(index.findChunk(chunk('one').hash)).toEqual([])
    expect(index.findChunk(chunk('two').hash)).toEqual([])
    expect(index.findChunk(chunk('two-changed').hash)).toHaveLength(1)
    index.updateLocal('photos', [file('c', ['three'])])
    index.removeFolder('docs')
    expect(index.findChunk(chunk('three').hash)).toEqual([{ folder: 'photos', path: 'c', offset: 0, size: 5 }])
  })

  it('keeps a file\'s chunks when only its time or mode changed', () => {
    index.updateLocal('docs', [file('a', ['one', 'two'])])
    index.updateLocal('docs', [{ ...file('a', ['one', 'two'], 5), mode: 0o600 }])
    expect(index.findChunk(chunk('two').hash)).toEqual([{ folder: 'docs', path: 'a', offset: 3, size: 3 }])
  })

  it('does not offer chunks that only a peer has', () => {
    using peer = temp.open(DEVICE_B)
    peer.updateLocal('docs', [file('remote', ['only there'])])
    index.applyRemote('docs', DEVICE_B, announce(peer, 'docs'))
    expect(index.findChunk(chunk('only there').hash)).toEqual([])
    index.adoptRemote('docs', index.need('docs')[0]!.winner)
    expect(index.findChunk(chunk('only there').hash)).toEqual([{ folder: 'docs', path: 'remote', offset: 0, size: 10 }])
  })

  it('wants a 32-byte hash', () => {
    expect(() => index.findChunk(new Uint8Array(16))).toThrow(InvalidInputError)
  })
})
