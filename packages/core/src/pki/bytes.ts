import { createHash } from 'node:crypto'

// node-forge works on "binary" strings (one char per byte); convert only at that boundary.
export function toBinaryString (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function fromBinaryString (binary: string): Uint8Array {
  return new Uint8Array(Buffer.from(binary, 'latin1'))
}

export function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
