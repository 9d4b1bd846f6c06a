import { open } from 'node:fs/promises'
import { InvalidInputError } from '../errors.ts'
import { READ_NONBLOCKING } from '../util/open-files.ts'
import { readFully } from '../util/read-fully.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import { chunkId } from './chunk-id.ts'
import { findCutPoint, MAX_CHUNK_SIZE } from './fastcdc.ts'
import type { FileHandle } from 'node:fs/promises'

/** One content-defined piece of a file or stream. */
export interface Chunk {
  /** Where the chunk starts in its file or stream. */
  offset: number
  size: number
  /** SHA-256 of the chunk's bytes: its id (see chunk-id.ts). */
  hash: Uint8Array
  /** The chunk's bytes (a copy), when asked for with `keepBytes`. */
  bytes?: Uint8Array
}

export interface ChunkingOptions {
  signal?: AbortSignal
  /** Called after each block (a few MiB) with the number of bytes chunked so far. */
  onProgress?: (bytes: number) => void
  /** chunkStream and chunksOfFile: each chunk carries a copy of its bytes (to store or send them as they come). */
  keepBytes?: boolean
  /**
   * chunkStream: the bytes the stream is expected to bring (a file's size). A small stream
   * then gets a small buffer instead of one of MAX_CHUNK_SIZE + BLOCK_SIZE; the buffer grows
   * if more come.
   */
  expectedBytes?: number
}

/** Bytes read at a time: large enough that a read and the tail copy cost little per byte. */
const BLOCK_SIZE = 4 * 1024 * 1024

/** Chunks and hashes a whole buffer (small data, tests). */
export function hashChunksOfBuffer (buf: Uint8Array): Chunk[] {
  const chunks: Chunk[] = []
  cutChunks(buf, 0, buf.byteLength, true, 0, chunks)
  return chunks
}

/**
 * Reads a regular file once, from start to end of file, and returns its chunks.
 * Files under BLOCK_SIZE are read into one buffer of their size; larger ones through
 * two reused block buffers, the next block being read while this one is chunked.
 */
export async function chunkFile (path: string, options: ChunkingOptions = {}): Promise<Chunk[]> {
  options.signal?.throwIfAborted()
  const file = await open(path, READ_NONBLOCKING)
  try {
    const stat = await file.stat()
    // A FIFO or a device would block or never end.
    if (!stat.isFile()) throw new InvalidInputError(`${path} is not a regular file, so it cannot be chunked`)
    const chunks: Chunk[] = []
    for await (const chunk of chunksOfFile(file, stat.size, options)) chunks.push(chunk)
    return chunks
  } finally {
    await file.close()
  }
}

/**
 * An open file's chunks as they are cut, reading from its start to its end (`expectedBytes`,
 * its size when opened, only sizes the buffers: a file that grew is read to its new end).
 * With `keepBytes` each chunk carries a copy of its bytes, so at most the two blocks being
 * read and chunked are in memory whatever the file's size: how a backup reads files.
 */
export async function * chunksOfFile (file: FileHandle, expectedBytes: number, options: ChunkingOptions = {}): AsyncGenerator<Chunk> {
  if (expectedBytes < BLOCK_SIZE) {
    const chunks = await chunkSmallFile(file, expectedBytes, options)
    if (chunks !== undefined) {
      yield * chunks
      return
    }
    // It grew while we read it: read it again the way large files are read.
  }
  yield * chunkLargeFile(file, options)
}

/**
 * Chunks a byte stream of any piece sizes; yields exactly the chunks that
 * hashChunksOfBuffer would give for all of its bytes joined.
 */
export async function * chunkStream (source: AsyncIterable<Uint8Array>, options: ChunkingOptions = {}): AsyncGenerator<Chunk> {
  const { signal, onProgress, keepBytes = false } = options
  const fullSize = MAX_CHUNK_SIZE + BLOCK_SIZE
  // One byte more than expected, so that a stream of the expected size does not fill it.
  let buf = Buffer.allocUnsafe(Math.min(fullSize, Math.max(0, options.expectedBytes ?? fullSize) + 1))
  let filled = 0
  let offset = 0 // of buf[0] in the stream
  for await (const piece of source) {
    signal?.throwIfAborted()
    for (let copied = 0; copied < piece.byteLength;) {
      const n = Math.min(piece.byteLength - copied, buf.byteLength - filled)
      buf.set(piece.subarray(copied, copied + n), filled)
      copied += n
      filled += n
      if (filled === buf.byteLength && buf.byteLength < fullSize) {
        // More than expected: a small buffer never cuts before the end, it grows.
        const grown = Buffer.allocUnsafe(fullSize)
        grown.set(buf)
        buf = grown
      } else if (filled === buf.byteLength) {
        // Cut only when full, so each byte is scanned about once whatever the piece sizes.
        const chunks: Chunk[] = []
        const rest = cutChunks(buf, 0, filled, false, offset, chunks, keepBytes)
        buf.copyWithin(0, rest, filled)
        filled -= rest
        offset += rest
        onProgress?.(offset)
        yield * chunks
      }
    }
  }
  const chunks: Chunk[] = []
  cutChunks(buf, 0, filled, true, offset, chunks, keepBytes)
  onProgress?.(offset + filled)
  yield * chunks
}

/**
 * Cuts and hashes every chunk that is complete in buf[start, end), appending them to
 * `chunks` (`offset` is where buf[start] is in the file); returns where the unconsumed
 * tail begins, which is `end` when `final`.
 */
function cutChunks (buf: Uint8Array, start: number, end: number, final: boolean, offset: number, chunks: Chunk[], keepBytes = false): number {
  let pos = start
  for (;;) {
    const size = findCutPoint(buf, pos, end, final)
    if (size <= 0) return pos
    const bytes = buf.subarray(pos, pos + size)
    chunks.push({ offset: offset + pos - start, size, hash: chunkId(bytes), ...(keepBytes ? { bytes: copyOf(bytes) } : {}) })
    pos += size
  }
}

/**
 * A copy in memory of its own: not zero-filled first (as `slice` is) and never a slice of
 * Node's shared pool, so whoever takes the chunk can free it (releaseBytes).
 */
function copyOf (bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** One read into a buffer one byte larger than the file; undefined if that byte was filled (the file grew). */
async function chunkSmallFile (file: FileHandle, size: number, { signal, onProgress, keepBytes = false }: ChunkingOptions): Promise<Chunk[] | undefined> {
  const buf = Buffer.allocUnsafe(size + 1)
  const n = await readFully(file, buf, 0, buf.byteLength, 0)
  signal?.throwIfAborted()
  if (n > size) { releaseBytes(buf); return undefined }
  const chunks: Chunk[] = []
  cutChunks(buf, 0, n, true, 0, chunks, keepBytes)
  // Hashed (and copied where kept): freed now, not at a collection (100 000 small files are 400 MiB of these).
  releaseBytes(buf)
  onProgress?.(n)
  return chunks
}

async function * chunkLargeFile (file: FileHandle, { signal, onProgress, keepBytes = false }: ChunkingOptions): AsyncGenerator<Chunk> {
  // Each buffer keeps MAX_CHUNK_SIZE in front of its block for the tail carried over from
  // the other one (a tail is always shorter than a maximum chunk).
  let buf = Buffer.allocUnsafe(MAX_CHUNK_SIZE + BLOCK_SIZE)
  let other = Buffer.allocUnsafe(MAX_CHUNK_SIZE + BLOCK_SIZE)
  let position = 0 // in the file, of the next read
  let offset = 0 // in the file, of the first byte not yet in a chunk
  let tail: Uint8Array = other.subarray(0, 0)
  let reading = readFully(file, buf, MAX_CHUNK_SIZE, BLOCK_SIZE, position)
  try {
    for (;;) {
      const n = await reading
      signal?.throwIfAborted()
      position += n
      const final = n < BLOCK_SIZE
      const start = MAX_CHUNK_SIZE - tail.byteLength
      buf.set(tail, start)
      // The tail has left the other buffer, so the next block can go there while this one is chunked.
      if (!final) reading = readFully(file, other, MAX_CHUNK_SIZE, BLOCK_SIZE, position)
      const end = MAX_CHUNK_SIZE + n
      const chunks: Chunk[] = []
      const rest = cutChunks(buf, start, end, final, offset, chunks, keepBytes)
      offset += rest - start
      tail = buf.subarray(rest, end)
      onProgress?.(offset)
      yield * chunks
      if (final) return
      const next = other
      other = buf
      buf = next
    }
  } finally {
    // Never close the file under a read still in flight.
    await reading.catch(() => {})
    releaseBytes(buf)
    releaseBytes(other)
  }
}
