import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { QuickReads } from '../../src/util/read-fully.ts'
import { fileHandleMethods } from './file-handle-methods.ts'
import type { FileHandle } from 'node:fs/promises'

describe('quick reads', () => {
  let dir: string
  let file: FileHandle
  const content = randomBytes(300_000)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-quick-reads-'))
    await writeFile(join(dir, 'f.bin'), content)
    file = await open(join(dir, 'f.bin'), 'r')
  })

  afterEach(async () => {
    vi.restoreAllMocks()
    await file.close()
    await rm(dir, { recursive: true, force: true })
  })

  const readAt = async (reads: QuickReads, offset: number, size: number): Promise<Buffer> => {
    const buf = Buffer.alloc(size)
    return buf.subarray(0, await reads.readFully(file, buf, 0, size, offset))
  }

  it('reads the bytes at an offset, and up to the end of the file for a range past it', async () => {
    const reads = new QuickReads()
    expect(await readAt(reads, 100_000, 65_536)).toEqual(content.subarray(100_000, 165_536))
    expect(await readAt(reads, 290_000, 20_000)).toEqual(content.subarray(290_000))
  })

  it('sends reads through the thread pool for a while after two in a row were slow, so a slow disk does not hold the event loop', async () => {
    const poolRead = vi.spyOn(await fileHandleMethods() as unknown as FileHandle, 'read')
    let clock = 0
    let step = 1
    const reads = new QuickReads({ now: () => (clock += step) })
    await readAt(reads, 0, 1000)
    step = 50 // a read takes 50 ms: once is a hiccup (a busy machine), twice in a row the disk
    await readAt(reads, 1000, 1000)
    step = 1
    await readAt(reads, 1000, 1000)
    step = 50
    await readAt(reads, 1000, 1000)
    expect(poolRead).not.toHaveBeenCalled()
    await readAt(reads, 1000, 1000)
    step = 1
    const pooled = await readAt(reads, 2000, 1000)
    expect(poolRead).toHaveBeenCalledTimes(1)
    expect(pooled).toEqual(content.subarray(2000, 3000))
    clock += 10_001
    await readAt(reads, 3000, 1000)
    expect(poolRead).toHaveBeenCalledTimes(1)
  })
})
