import { ProtocolError } from '../errors.ts'
import { KEY_SHARE_BYTES } from './record-keys.ts'

/**
 * The certificate exchange, carried inside the Noise channel (docs/protocol.md,
 * "Handshake"). JSON, one message per length-prefixed frame, every field checked here
 * so the encrypter only ever sees well-formed messages.
 *
 * Device to device:             Enrolling device to CA holder:
 *   I -> R  hello                 I -> R  enroll
 *   R -> I  hello | reject        R -> I  hello (with the CA certificate) | reject
 *                                 I -> R  csr
 *                                 R -> I  certificate | reject
 */
export const MAX_HANDSHAKE_MESSAGE = 64 * 1024

export type HandshakeMessage =
  | { type: 'hello', certificate: string, ca?: string, crl?: Uint8Array, share: Uint8Array }
  | { type: 'enroll', share: Uint8Array }
  | { type: 'csr', secret: Uint8Array, csr: string }
  | { type: 'certificate', certificate: string }
  | { type: 'reject', code: string, message: string }

export function encodeHandshakeMessage (message: HandshakeMessage): Uint8Array {
  // `this[key]` is the value before toJSON: a Buffer would otherwise arrive as {type, data}.
  const json = JSON.stringify(message, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key]
    return original instanceof Uint8Array ? { b64: Buffer.from(original).toString('base64') } : value
  })
  return new TextEncoder().encode(json)
}

export function decodeHandshakeMessage (bytes: Uint8Array): HandshakeMessage {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new ProtocolError('peer sent a handshake message that is not JSON')
  }
  const m = record(value, 'message')
  switch (m.type) {
    case 'hello': return {
      type: 'hello',
      certificate: text(m.certificate, 'certificate', 16 * 1024),
      ca: m.ca === undefined ? undefined : text(m.ca, 'ca', 16 * 1024),
      crl: m.crl === undefined ? undefined : bytes64(m.crl, 'crl', 48 * 1024),
      share: share(m.share)
    }
    case 'enroll': return { type: 'enroll', share: share(m.share) }
    case 'csr': return { type: 'csr', secret: bytes64(m.secret, 'secret', 64), csr: text(m.csr, 'csr', 16 * 1024) }
    case 'certificate': return { type: 'certificate', certificate: text(m.certificate, 'certificate', 16 * 1024) }
    case 'reject': return { type: 'reject', code: text(m.code, 'code', 64), message: text(m.message, 'message', 1024) }
    default: throw new ProtocolError(`peer sent an unknown handshake message ${JSON.stringify(String(m.type)).slice(0, 40)}`)
  }
}

function record (value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(`handshake ${what} is not an object`)
  return value as Record<string, unknown>
}

function text (value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) throw new ProtocolError(`handshake field ${what} is missing or too long`)
  return value
}

function bytes64 (value: unknown, what: string, max: number): Uint8Array {
  const b64 = record(value, what).b64
  if (typeof b64 !== 'string' || b64.length > Math.ceil(max / 3) * 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new ProtocolError(`handshake field ${what} is not valid base64 or too long`)
  }
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

function share (value: unknown): Uint8Array {
  const bytes = bytes64(value, 'share', KEY_SHARE_BYTES)
  if (bytes.byteLength !== KEY_SHARE_BYTES) throw new ProtocolError('handshake key share has the wrong length')
  return bytes
}
