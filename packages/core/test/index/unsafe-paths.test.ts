import { posix, win32 } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidInputError, ProtocolError } from '../../src/errors.ts'
import { isValidPath } from '../../src/index/index.ts'
import type { FileRecord, FolderIndex } from '../../src/index/index.ts'
import { DEVICE_A, DEVICE_B, file, tempIndexes } from './fixtures.ts'

const TRAVERSALS = [
  '', '.', '..', '../x', 'a/../../x', 'a/..', './a', 'a/./b', '/etc/passwd', '//server/share', 'a//b', 'a/',
  'a\\..\\b', '..\\x', 'C:\\Windows', 'C:x', 'c:/x', 'a\u0000b', 'e\u0301', 'a/\uD800', '.. ', 'a/... /b', ' '
]

/** Pieces that make the dangerous cases likely, mixed with arbitrary text. */
const piece = fc.oneof(
  fc.constantFrom('.', '..', '/', '\\', ':', 'C:', ' ', 'a', 'é', 'e\u0301', '\u0000', '\uD800', '\uDC00', '~'),
  fc.string({ unit: 'binary', maxLength: 4 })
)
const candidate = fc.oneof(fc.array(piece, { maxLength: 8 }).map(parts => parts.join('')), fc.string({ unit: 'binary' }))

function remoteRecord (path: string): FileRecord {
  return { ...file('ok'), path, version: { [DEVICE_B]: 1 }, sequence: 1, modifiedBy: DEVICE_B }
}

describe('paths the index refuses', () => {
  let temp: ReturnType<typeof tempIndexes>
  let index: FolderIndex

  beforeAll(() => {
    temp = tempIndexes()
    index = temp.open(DEVICE_A)
  })

  afterAll(() => temp.cleanup())

  it.each(TRAVERSALS)('refuses %j from the scanner and from a peer, and stores nothing', path => {
    expect(() => index.updateLocal('docs', [{ ...file('ok'), path }])).toThrow(InvalidInputError)
    expect(() => index.applyRemote('docs', DEVICE_B, [remoteRecord(path)])).toThrow(ProtocolError)
    expect(() => index.adoptRemote('docs', remoteRecord(path))).toThrow(InvalidInputError)
    expect(index.localSequence('docs')).toBe(0)
    expect(index.remoteSequence('docs', DEVICE_B)).toBe(0)
  })

  it('says what is wrong with the path', () => {
    expect(() => index.applyRemote('docs', DEVICE_B, [remoteRecord('a/../../x')])).toThrow(/"a\/..\/..\/x".*'\.\.' segment/)
    expect(() => index.updateLocal('docs', [{ ...file('ok'), path: 'e\u0301' }])).toThrow(/NFC/)
  })

  it('accepts ordinary relative paths', () => {
    for (const path of ['a', 'a/b/c.txt', '.hidden', 'a/..b', 'x..', 'café/naïve', '日本/語', 'with space/ok', 'notes:1']) {
      expect(isValidPath(path), path).toBe(true)
    }
  })

  it('keeps every path it accepts inside the folder, on POSIX and on Windows', () => {
    fc.assert(fc.property(candidate, path => {
      if (!isValidPath(path)) {
        expect(() => index.applyRemote('docs', DEVICE_B, [remoteRecord(path)])).toThrow(ProtocolError)
        return
      }
      expect(path.normalize('NFC')).toBe(path)
      expect(posix.resolve('/root', path).startsWith('/root/')).toBe(true)
      expect(win32.resolve('C:\\root', path).startsWith('C:\\root\\')).toBe(true)
      expect(posix.normalize(path)).toBe(path)
    }), { numRuns: 2000 })
    expect(index.remoteSequence('docs', DEVICE_B)).toBe(0)
  })
})
