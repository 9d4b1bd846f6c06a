import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BatchedRenames } from '../../src/util/batched-renames.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { fileHandleMethods } from './file-handle-methods.ts'
import type { FileHandle } from 'node:fs/promises'

describe('batched renames', () => {
  let dir: string
  let fileMethods: Awaited<ReturnType<typeof fileHandleMethods>>

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-renames-'))
    fileMethods = await fileHandleMethods()
  })

  afterEach(async () => {
    vi.restoreAllMocks()
    await rm(dir, { recursive: true, force: true })
  })

  const renames = (maxFiles = 16): BatchedRenames => new BatchedRenames({ syncs: new ByteBudget(4), maxFiles })
  /** Holds every fsync until the returned function is called. */
  const holdSyncs = (): () => void => {
    const release = Promise.withResolvers<void>()
    const original = fileMethods.sync
    vi.spyOn(fileMethods, 'sync').mockImplementation(async function (this: FileHandle) {
      await release.promise
      return await original.call(this)
    })
    return release.resolve
  }
  /** A temporary file written in full, still open, as a restore hands it over. */
  const written = async (name: string, text: string): Promise<{ file: FileHandle, temp: string, final: string }> => {
    const temp = join(dir, `.${name}.tmp`)
    const file = await open(temp, 'wx')
    await file.write(text)
    return { file, temp, final: join(dir, name) }
  }

  it('puts a file at its final name only once it is fsynced, whole', async () => {
    const release = holdSyncs()
    const batch = renames()
    const a = await written('a.txt', 'all of a')
    const { done } = await batch.add(a.file, a.temp, a.final)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(await readdir(dir)).toEqual(['.a.txt.tmp'])
    release()
    await done
    expect(await readdir(dir)).toEqual(['a.txt'])
    expect(await readFile(a.final, 'utf8')).toBe('all of a')
  })

  it('replaces an existing file in one step, and leaves it alone when the fsync fails', async () => {
    await writeFile(join(dir, 'kept.txt'), 'old kept')
    await writeFile(join(dir, 'replaced.txt'), 'old replaced')
    const original = fileMethods.sync
    let calls = 0
    vi.spyOn(fileMethods, 'sync').mockImplementation(async function (this: FileHandle) {
      if (calls++ === 0) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
      return await original.call(this)
    })
    const batch = renames()
    const kept = await written('kept.txt', 'new kept')
    const replaced = await written('replaced.txt', 'new replaced')
    const first = await batch.add(kept.file, kept.temp, kept.final)
    const second = await batch.add(replaced.file, replaced.temp, replaced.final)
    await expect(first.done).rejects.toThrow(/EIO/)
    await second.done
    expect(await readFile(join(dir, 'kept.txt'), 'utf8')).toBe('old kept')
    expect(await readFile(join(dir, 'replaced.txt'), 'utf8')).toBe('new replaced')
    // The failed file's temporary copy is gone too.
    expect((await readdir(dir)).sort()).toEqual(['kept.txt', 'replaced.txt'])
  })

  it('makes writers wait while more than maxFiles wait for their fsyncs', async () => {
    const release = holdSyncs()
    const batch = renames(2)
    const files = await Promise.all(['a', 'b', 'c'].map(async name => await written(name, name)))
    const handedOver: string[] = []
    const adds = files.map(async (f, i) => {
      const added = await batch.add(f.file, f.temp, f.final)
      handedOver.push(['a', 'b', 'c'][i]!)
      return added
    })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(handedOver.sort()).toEqual(['a', 'b'])
    release()
    await Promise.all((await Promise.all(adds)).map(async added => { await added.done }))
    expect(handedOver.sort()).toEqual(['a', 'b', 'c'])
    expect((await readdir(dir)).sort()).toEqual(['a', 'b', 'c'])
  })
})
