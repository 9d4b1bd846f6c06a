/**
 * Content-defined chunking: a file's content is its list of chunks, each named by the
 * SHA-256 of its bytes. Boundaries come from FastCDC (16 KiB min, 64 KiB average,
 * 256 KiB max), so an insertion changes only the chunks around it and equal content
 * yields equal chunks wherever it sits: that is what sync and backup dedupe on.
 * Boundaries and ids are part of the format and never change.
 *
 * @example
 * ```ts
 * import { chunkFile, chunkIdHex } from '@aerie/core'
 *
 * const chunks = await chunkFile('/home/ann/report.pdf', { onProgress: bytes => { console.log(bytes) } })
 * for (const { offset, size, hash } of chunks) console.log(offset, size, chunkIdHex(hash))
 * ```
 */
export { AVG_CHUNK_SIZE, findCutPoint, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './fastcdc.ts'
export { CHUNK_ID_BYTES, chunkId, chunkIdFromHex, chunkIdHex, isChunk } from './chunk-id.ts'
export { chunkFile, chunksOfFile, chunkStream, hashChunksOfBuffer } from './file-chunker.ts'
export type { Chunk, ChunkingOptions } from './file-chunker.ts'
