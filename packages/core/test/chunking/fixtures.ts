import { createCipheriv, createHash } from 'node:crypto'
import { chunkStream } from '../../src/chunking/index.ts'
import type { Chunk } from '../../src/chunking/index.ts'

/**
 * Reproducible pseudo-random bytes: the AES-256-CTR keystream under a key derived from
 * `seed`. Pinned tests need the same input on every machine and every run.
 */
export function pseudoRandomBytes (seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest()
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length))
}

/** Collects what chunkStream yields for these pieces (told to expect `expectedBytes`, if given). */
export async function chunksOfPieces (pieces: Uint8Array[], expectedBytes?: number): Promise<Chunk[]> {
  async function * source (): AsyncGenerator<Uint8Array> { yield * pieces }
  const chunks: Chunk[] = []
  for await (const chunk of chunkStream(source(), expectedBytes === undefined ? {} : { expectedBytes })) chunks.push(chunk)
  return chunks
}

export function hex (chunks: Chunk[]): string[] {
  return chunks.map(c => Buffer.from(c.hash).toString('hex'))
}
