import { createHash } from 'node:crypto'
import { InvalidInputError } from '../errors.ts'

/** A chunk is named by the SHA-256 of its bytes: 32 bytes, or 64 hex digits in text. */
export const CHUNK_ID_BYTES = 32

export function chunkId (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

/** Whether `bytes` are the chunk named `id` (the check every chunk from a disk or a peer gets). */
export function isChunk (bytes: Uint8Array, id: Uint8Array): boolean {
  return Buffer.from(chunkId(bytes)).equals(id)
}

/** Lower-case hex, the one text form of a chunk id (store file names, logs, the CLI). */
export function chunkIdHex (id: Uint8Array): string {
  if (id.byteLength !== CHUNK_ID_BYTES) throw new InvalidInputError(`a chunk id is ${CHUNK_ID_BYTES} bytes, not ${id.byteLength}`)
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
}

const HEX_ID = /^[0-9a-f]{64}$/i

/** Parses a chunk id written as 64 hex digits; anything else is refused, never truncated. */
export function chunkIdFromHex (hex: string): Uint8Array {
  if (!HEX_ID.test(hex)) {
    throw new InvalidInputError(`"${hex.length > 80 ? hex.slice(0, 80) + '…' : hex}" is not a chunk id: a chunk id is 64 hex digits (a SHA-256)`)
  }
  return Buffer.from(hex, 'hex')
}
