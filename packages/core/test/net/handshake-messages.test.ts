import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ProtocolError } from '../../src/errors.ts'
import { decodeHandshakeMessage, encodeHandshakeMessage } from '../../src/net/handshake-messages.ts'
import { newKeyShare } from '../../src/net/record-keys.ts'

// Handshake messages come from peers that have not been authenticated yet: anything they
// send must end in a well-formed message or a ProtocolError, never another exception.
describe('handshake messages', () => {
  it('round-trip', () => {
    const share = newKeyShare()
    const hello = { type: 'hello' as const, certificate: '-----BEGIN CERTIFICATE-----', crl: Uint8Array.of(1, 2, 3), share }
    expect(decodeHandshakeMessage(encodeHandshakeMessage(hello))).toEqual({ ...hello, ca: undefined, crl: Uint8Array.of(1, 2, 3), share: new Uint8Array(share) })
  })

  it('reject malformed bytes and JSON with a ProtocolError only', () => {
    const anyJson = fc.jsonValue().map(v => new TextEncoder().encode(JSON.stringify(v)))
    const nearlyValid = fc.record({
      type: fc.constantFrom('hello', 'enroll', 'csr', 'certificate', 'reject', 'other'),
      certificate: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
      share: fc.oneof(fc.record({ b64: fc.string() }), fc.string(), fc.constant({ b64: 'AAAA' })),
      secret: fc.oneof(fc.record({ b64: fc.base64String() }), fc.constant(null)),
      csr: fc.string(),
      code: fc.string(),
      message: fc.string({ maxLength: 2000 })
    }).map(v => new TextEncoder().encode(JSON.stringify(v)))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), anyJson, nearlyValid), (bytes) => {
      try {
        decodeHandshakeMessage(bytes)
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
      }
    }), { numRuns: 500 })
  })

  it('refuses a key share of the wrong length', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ type: 'enroll', share: { b64: Buffer.alloc(31).toString('base64') } }))
    expect(() => decodeHandshakeMessage(bytes)).toThrow(ProtocolError)
  })
})
