import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ChunkReads } from '../../src/sync/local-chunks.ts'
import { fileHandleMethods } from '../util/file-handle-methods.ts'
import type { FileHandle } from 'node:fs/promises'

describe('chunk reads', () => {
  let dir: string
  let file: FileHandle
  const content = randomBytes(300_000)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-chunk-reads-'))
    await writeFile(join(dir, 'f.bin'), content)
    file = await open(join(dir, 'f.bin'), 'r')
  })

  afterEach(async () => {
    vi.restoreAllMocks()
    await file.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the bytes at an offset, and nothing for a range past the end of the file', async () => {
    const reads = new ChunkReads()
    expect(Buffer.from((await reads.read(file, 100_000, 65_536))!)).toEqual(content.subarray(100_000, 165_536))
    expect(await reads.read(file, 290_000, 20_000)).toBeUndefined()
  })

  it('sends reads through the thread pool for a while after one was slow, so a slow disk does not hold the event loop', async () => {
    const poolRead = vi.spyOn(await fileHandleMethods() as unknown as FileHandle, 'read')
    let clock = 0
    let step = 1
    const reads = new ChunkReads({ now: () => (clock += step) })
    await reads.read(file, 0, 1000)
    expect(poolRead).not.toHaveBeenCalled()
    step = 50 // the next read takes 50 ms
    await reads.read(file, 1000, 1000)
    step = 1
    const pooled = await reads.read(file, 2000, 1000)
    expect(poolRead).toHaveBeenCalledTimes(1)
    expect(Buffer.from(pooled!)).toEqual(content.subarray(2000, 3000))
    clock += 10_001
    await reads.read(file, 3000, 1000)
    expect(poolRead).toHaveBeenCalledTimes(1)
  })
})
