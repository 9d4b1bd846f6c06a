import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/errors.ts'
import { encodeIndexMessage, parseChunkRequest, parseIndexMessage, parseVersionsRequest, parseVersionsResponse } from '../../src/protocol/index.ts'
import type { FileRecord } from '../../src/index/index.ts'

// What a peer sends is checked before anything uses it: any input either parses into the
// message shape or is refused with a ProtocolError, never another exception.
describe('wire messages from a peer', () => {
  const record: FileRecord = {
    path: 'docs/a.txt', type: 'file', size: 5, mtimeMs: 1, mode: 0o644, deleted: false,
    chunks: [{ hash: new Uint8Array(32).fill(7), size: 5 }], version: { abc: 1 }, sequence: 3, modifiedBy: 'abc'
  }

  it('an index message survives encoding and parsing unchanged', () => {
    const wire = JSON.parse(JSON.stringify(encodeIndexMessage({ type: 'index', folder: 'f', records: [record] })))
    const parsed = parseIndexMessage(wire)
    expect(parsed.type === 'index' && parsed.records[0]).toEqual({ ...record, chunks: [{ hash: record.chunks[0]!.hash, size: 5 }] })
  })

  it('a versions request may not leave its folder', () => {
    for (const path of ['../x', 'a/../../b', '/etc/passwd']) {
      expect(() => parseVersionsRequest({ type: 'list', folder: 'f', path })).toThrow(ProtocolError)
    }
    expect(parseVersionsRequest({ type: 'restore', folder: 'f', path: 'a/b.txt', at: '2026-11-22T10:00:00Z' })).toMatchObject({ path: 'a/b.txt' })
  })

  it('anything else is a ProtocolError', () => {
    const refusedOnly = (parse: (input: unknown) => unknown) => (input: unknown) => {
      try {
        parse(input)
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError)
      }
    }
    fc.assert(fc.property(fc.anything(), refusedOnly(parseIndexMessage)), { numRuns: 500 })
    fc.assert(fc.property(fc.anything(), refusedOnly(parseChunkRequest)), { numRuns: 500 })
    fc.assert(fc.property(fc.anything(), refusedOnly(parseVersionsRequest)), { numRuns: 500 })
    fc.assert(fc.property(fc.anything(), refusedOnly(parseVersionsResponse)), { numRuns: 500 })
    fc.assert(fc.property(fc.record({ type: fc.constantFrom('list', 'restore'), folder: fc.anything(), path: fc.anything(), at: fc.anything() }), refusedOnly(parseVersionsRequest)), { numRuns: 500 })
    // Well-formed envelopes with hostile fields.
    const hostileRecord = fc.record({
      path: fc.oneof(fc.string(), fc.integer()), type: fc.string(), size: fc.oneof(fc.integer(), fc.double()),
      mtimeMs: fc.anything(), mode: fc.integer(), deleted: fc.anything(), chunks: fc.oneof(fc.string(), fc.base64String()),
      version: fc.anything(), sequence: fc.anything(), modifiedBy: fc.anything()
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.array(hostileRecord, { maxLength: 3 }), (records) => {
      refusedOnly(parseIndexMessage)({ type: 'index', folder: 'f', records })
    }), { numRuns: 500 })
  })

  it('refuses chunk lists that are not whole entries, and oversized chunk requests', () => {
    expect(() => parseIndexMessage({ type: 'index', folder: 'f', records: [{ ...encodeRecordLike(), chunks: 'AAAA' }] })).toThrow(/chunk list/)
    expect(() => parseChunkRequest({ folder: 'f', hash: 'ab'.repeat(32), size: 2 * 1024 * 1024 })).toThrow(ProtocolError)
    expect(() => parseChunkRequest({ folder: 'f', hash: 'zz'.repeat(32), size: 10 })).toThrow(ProtocolError)
  })

  function encodeRecordLike (): Record<string, unknown> {
    const message = JSON.parse(JSON.stringify(encodeIndexMessage({ type: 'index', folder: 'f', records: [record] }))) as { records: Array<Record<string, unknown>> }
    return message.records[0]!
  }
})
