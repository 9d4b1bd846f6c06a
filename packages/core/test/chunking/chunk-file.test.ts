import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../src/errors.ts'
import { chunkFile, chunksOfFile, hashChunksOfBuffer, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../src/chunking/index.ts'
import { chunksOfPieces } from './fixtures.ts'

const MiB = 1024 * 1024

describe('chunkFile', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'aerie-chunking-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function file (name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  }

  it('gives no chunks for an empty file', async () => {
    expect(await chunkFile(await file('empty', new Uint8Array(0)))).toEqual([])
  })

  it('gives one chunk, named by its SHA-256, for a file smaller than the minimum chunk', async () => {
    for (const size of [1, 100, MIN_CHUNK_SIZE - 1, MIN_CHUNK_SIZE]) {
      const bytes = randomBytes(size)
      const chunks = await chunkFile(await file(`tiny-${size}`, bytes))
      expect(chunks).toEqual([{ offset: 0, size, hash: createHash('sha256').update(bytes).digest() }])
    }
  })

  // Sizes around the minimum and maximum chunk and chunkFile's 4 MiB read block, both below
  // it (read in one go) and above it (two alternating buffers carrying tails).
  const sizes = [MIN_CHUNK_SIZE + 1, MAX_CHUNK_SIZE - 1, MAX_CHUNK_SIZE, MAX_CHUNK_SIZE + 1,
    4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 8 * MiB, 8 * MiB + MAX_CHUNK_SIZE + 3, 13 * MiB + 5]
  for (const size of sizes) {
    it(`equals chunkStream and hashChunksOfBuffer over the same bytes (${size} bytes)`, async () => {
      const bytes = randomBytes(size)
      const chunks = await chunkFile(await file(`f-${size}`, bytes))
      expect(chunks).toEqual(hashChunksOfBuffer(bytes))
      expect(chunks).toEqual(await chunksOfPieces([bytes.subarray(0, 1000), bytes.subarray(1000)]))
      expect(chunks.reduce((n, c) => n + c.size, 0)).toBe(size)
    })
  }

  it('chunksOfFile yields the same chunks from an open file, each with its own copy of its bytes', async () => {
    for (const size of [100, 4 * MiB + 1, 13 * MiB + 5]) {
      const bytes = randomBytes(size)
      const handle = await open(await file(`open-${size}`, bytes), 'r')
      const got = []
      try {
        // Expected size smaller than the file: a file that grew since its lstat is read to its end.
        for await (const chunk of chunksOfFile(handle, Math.min(size, 1000), { keepBytes: true })) got.push(chunk)
      } finally {
        await handle.close()
      }
      expect(got.map(({ bytes: _, ...chunk }) => chunk)).toEqual(hashChunksOfBuffer(bytes))
      expect(Buffer.concat(got.map(c => c.bytes!))).toEqual(bytes)
      // Each is memory of its own (whoever takes it may free it), not a view of a read buffer.
      expect(got.every(c => c.bytes!.byteOffset === 0 && c.bytes!.byteLength === c.bytes!.buffer.byteLength)).toBe(true)
    }
  })

  it('gives the same chunks for zeros, where every cut is at the maximum size', async () => {
    const bytes = new Uint8Array(9 * MiB + 1)
    expect(await chunkFile(await file('zeros', bytes))).toEqual(hashChunksOfBuffer(bytes))
  })

  it('reports progress up to the file size', async () => {
    const size = 10 * MiB + 3
    const path = await file('progress', randomBytes(size))
    const seen: number[] = []
    await chunkFile(path, { onProgress: bytes => { seen.push(bytes) } })
    expect(seen.length).toBeGreaterThan(1)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(seen.at(-1)).toBe(size)
  })

  it('stops when aborted, before or during the read', async () => {
    const path = await file('abort', randomBytes(12 * MiB))
    await expect(chunkFile(path, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i)
    const controller = new AbortController()
    const reading = chunkFile(path, { signal: controller.signal, onProgress: () => { controller.abort() } })
    await expect(reading).rejects.toThrow(/abort/i)
  })

  it('refuses what is not a regular file, a FIFO too, without waiting for a writer', async () => {
    await expect(chunkFile(dir)).rejects.toBeInstanceOf(InvalidInputError)
    const fifo = join(dir, 'a-fifo')
    execFileSync('mkfifo', [fifo])
    await expect(chunkFile(fifo)).rejects.toBeInstanceOf(InvalidInputError)
  })
})
