import { chunkStream } from '../chunking/index.ts'
import { InvalidInputError, StoreDamagedError } from '../errors.ts'
import type { ByteBudget } from '../util/byte-budget.ts'
import type { ChunkStore } from './chunk-store.ts'

/** A file's content as the store knows it: its chunks in order. */
export interface StoredChunk { hash: Uint8Array, size: number }

/** Chunks read ahead of the one being sent, by default. */
const READ_AHEAD = 8

export interface ReadChunksOptions {
  budget?: ByteBudget
  /** Chunks read ahead of the one handed on (READ_AHEAD by default), while the budget allows. */
  readAhead?: number
}

/**
 * The bytes [start, end) of content made of `chunks`, read from the store chunk by chunk (a
 * few ahead), never the whole content in memory; every chunk is verified by the store.
 * `budget`, shared by all readers (a server's many downloads), bounds the bytes read ahead
 * across them: each reader still gets one chunk at a time. `store` may be any source of chunks
 * that verifies them (a backup restore reads the team server's through a verifying source).
 */
export async function * readChunks (store: Pick<ChunkStore, 'get'>, chunks: readonly StoredChunk[], start = 0, end?: number, options: ReadChunksOptions = {}): AsyncGenerator<Uint8Array> {
  const total = chunks.reduce((n, c) => n + c.size, 0)
  const stop = end ?? total
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || start < 0 || stop > total || start > stop) {
    throw new InvalidInputError(`bytes ${start}-${stop} are outside the content (${total} bytes)`)
  }
  const wanted: Array<{ hash: Uint8Array, size: number, from: number, to: number }> = []
  let offset = 0
  for (const chunk of chunks) {
    if (offset >= stop) break
    const from = Math.max(start, offset)
    const to = Math.min(stop, offset + chunk.size)
    if (from < to) wanted.push({ hash: chunk.hash, size: chunk.size, from: from - offset, to: to - offset })
    offset += chunk.size
  }
  const { budget } = options
  const readAhead = Math.max(1, options.readAhead ?? READ_AHEAD)
  const reads: Array<Promise<Uint8Array | undefined>> = []
  // Budget taken for reads issued and not yet handed on (given back in finally if the reader stops early).
  let held = 0
  const sizeOf = (i: number): number => Math.max(1, wanted[i]!.to)
  try {
    for (let i = 0; i < wanted.length; i++) {
      while (reads.length < i + readAhead && reads.length < wanted.length) {
        const n = reads.length
        // Read-ahead only while the shared budget allows; the chunk this reader needs now always goes.
        if (budget !== undefined && n > i && !budget.tryTake(sizeOf(n))) break
        if (budget !== undefined && n === i) await budget.take(sizeOf(n))
        held += budget === undefined ? 0 : sizeOf(n)
        const reading = store.get(wanted[n]!.hash)
        // A reader that stops early leaves reads nobody awaits: their failures are not crashes.
        reading.catch(() => {})
        reads.push(reading)
      }
      const bytes = await reads[i]!
      reads[i] = Promise.resolve(undefined) // let it go
      const { hash, size, from, to } = wanted[i]!
      if (bytes === undefined) throw new StoreDamagedError(`chunk ${Buffer.from(hash).toString('hex').slice(0, 16)}… is missing from the store`)
      // Its hash was checked: a length other than its list says means the list is wrong, and a part of it would be passed off as the content.
      if (bytes.byteLength !== size) throw new StoreDamagedError(`chunk ${Buffer.from(hash).toString('hex').slice(0, 16)}… holds ${bytes.byteLength} bytes, not the ${size} its list says`)
      yield from === 0 && to === bytes.byteLength ? bytes : bytes.subarray(from, to)
      if (budget !== undefined) {
        budget.give(sizeOf(i))
        held -= sizeOf(i)
      }
    }
  } finally {
    if (budget !== undefined && held > 0) budget.give(held)
  }
}

/**
 * Cuts a byte stream into content-defined chunks and stores each as it comes (one chunk's
 * bytes in memory at a time, besides the chunker's buffer). Returns the content's chunk list.
 */
export async function storeStream (store: ChunkStore, source: AsyncIterable<Uint8Array>, options: { signal?: AbortSignal } = {}): Promise<{ chunks: StoredChunk[], size: number }> {
  const chunks: StoredChunk[] = []
  let size = 0
  for await (const chunk of chunkStream(source, { keepBytes: true, ...(options.signal === undefined ? {} : { signal: options.signal }) })) {
    // Hashed just now by the chunker: the store need not hash it again.
    await store.put(chunk.hash, chunk.bytes!, { verified: true })
    chunks.push({ hash: chunk.hash, size: chunk.size })
    size += chunk.size
  }
  return { chunks, size }
}
