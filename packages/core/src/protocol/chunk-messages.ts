import { ProtocolError } from '../errors.ts'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * `/aerie/chunk/1.0.0`: the requester opens a stream and writes requests, many in flight;
 * the responder answers each, in order, with one frame: a status byte, then for OK the
 * chunk's bytes. The requester verifies the hash of every chunk it gets (docs/protocol.md).
 */
export const CHUNK_PROTOCOL = '/aerie/chunk/1.0.0'
/** FastCDC's maximum is 256 KiB; a request for more is refused. */
export const MAX_CHUNK_REQUEST = 1024 * 1024
export const MAX_CHUNK_REQUEST_MESSAGE = 1024
export const MAX_CHUNK_RESPONSE = MAX_CHUNK_REQUEST + 1

export const CHUNK_OK = 0
/** The responder has no file with this chunk in that folder (any more). */
export const CHUNK_NOT_FOUND = 1
/** The requester is not a member of the folder. */
export const CHUNK_REFUSED = 2

export interface ChunkRequest {
  folder: string
  hash: Uint8Array
  size: number
}

export function encodeChunkRequest (request: ChunkRequest): unknown {
  return { folder: request.folder, hash: Buffer.from(request.hash).toString('hex'), size: request.size }
}

export function parseChunkRequest (input: unknown): ChunkRequest {
  const message = input as Record<string, unknown> | null
  if (typeof message !== 'object' || message === null) throw new ProtocolError('bad chunk request: not an object')
  const { folder, hash, size } = message
  if (typeof folder !== 'string' || folder === '' || folder.length > 256) throw new ProtocolError('bad chunk request: folder is not a string of 1 to 256 characters')
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new ProtocolError('bad chunk request: hash is not 64 hex digits')
  if (!Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > MAX_CHUNK_REQUEST) {
    throw new ProtocolError(`bad chunk request: size is not between 1 and ${MAX_CHUNK_REQUEST}`)
  }
  return { folder, hash: new Uint8Array(Buffer.from(hash, 'hex')), size: size as number }
}

/** A chunk answer: the status byte, then the chunk's bytes, which are not copied. */
export function chunkResponse (status: number, data?: Uint8Array): Uint8ArrayList {
  return data === undefined ? new Uint8ArrayList(Uint8Array.of(status)) : new Uint8ArrayList(Uint8Array.of(status), data)
}
