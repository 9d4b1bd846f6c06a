import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pullFolder } from '../../src/sync/puller.ts'
import { DiskRoom } from '../../src/util/disk-room.ts'
import { createLocalChunks } from '../../src/sync/local-chunks.ts'
import { openVersionHistory } from '../../src/sync/version-history.ts'
import { announce, chunk, DEVICE_A, DEVICE_B, file, tempIndexes } from '../index/fixtures.ts'
import type { FolderIndex } from '../../src/index/index.ts'
import type { PullerInit } from '../../src/sync/puller.ts'

const F = 'team'

// The puller on its own: a real index holding a peer's records, a real folder on disk, and
// the peer's chunks served from memory (what the chunk client would fetch).
describe('the puller', () => {
  let indexes: ReturnType<typeof tempIndexes>
  let owner: FolderIndex
  let member: FolderIndex
  let root: string
  const chunks = new Map<string, Uint8Array>()
  let fetches = 0
  /** Chunks whose fetch takes longer. */
  const slow = new Set<string>()

  beforeEach(async () => {
    indexes = tempIndexes('aerie-puller-')
    owner = indexes.open(DEVICE_A)
    member = indexes.open(DEVICE_B)
    root = join(indexes.dir, 'folder')
    await mkdir(root)
    fetches = 0
    slow.clear()
  })
  afterEach(() => { indexes.cleanup() })

  /** The owner records files with these pieces as their chunks; the member learns of them. */
  function ownerHas (...files: Array<{ path: string, pieces: string[], mode?: number }>): void {
    for (const f of files) for (const piece of f.pieces) chunks.set(Buffer.from(chunk(piece).hash).toString('hex'), Buffer.from(piece))
    owner.updateLocal(F, files.map(f => ({ ...file(f.path, f.pieces), mode: f.mode ?? 0o644 })))
    member.applyRemote(F, DEVICE_A, announce(owner, F))
  }

  function init (): PullerInit {
    return {
      folder: F,
      root,
      index: member,
      history: openVersionHistory(root),
      localChunks: createLocalChunks(member, () => root),
      fetchChunk: async (hash) => {
        const bytes = chunks.get(Buffer.from(hash).toString('hex'))
        if (bytes === undefined) throw new Error('no peer has this chunk')
        fetches++
        await new Promise(resolve => setTimeout(resolve, slow.has(Buffer.from(hash).toString('hex')) ? 100 : 5))
        // Memory of the puller's own, as a peer's answer is: it frees them once written.
        return new Uint8Array(bytes)
      }
    }
  }

  it('builds a peer\'s files with their bytes, mode and mtime, and records the inode of what it built', async () => {
    ownerHas({ path: 'docs/a.txt', pieces: ['hello ', 'world'] }, { path: 'run.sh', pieces: ['#!/bin/sh\n'], mode: 0o755 })
    const result = await pullFolder(init())
    expect(result.problems).toEqual([])
    expect(result.doneFiles).toBe(2)
    expect(await readFile(join(root, 'docs/a.txt'), 'utf8')).toBe('hello world')
    const script = await lstat(join(root, 'run.sh'))
    expect(script.mode & 0o777).toBe(0o755)
    expect(Math.floor(script.mtimeMs)).toBe(owner.getLocal(F, 'run.sh')!.mtimeMs)
    // The index holds the file's own inode: a rescan finds it unchanged and does not hash it again.
    expect(member.getLocal(F, 'run.sh')!.inode).toBe(script.ino)
    expect(member.need(F)).toEqual([])
    // No temporary file is left beside them.
    expect((await readdir(join(root, 'docs'))).sort()).toEqual(['a.txt'])
  })

  it('fetches a chunk several files need at once only once, and writes it whole into each', async () => {
    // Large enough that each fetched chunk is memory of its own, which the puller may free. The
    // second file's other chunk comes late, so it writes the shared one after the first file did.
    const shared = 'a'.repeat(20_000)
    slow.add(Buffer.from(chunk('c'.repeat(20_000)).hash).toString('hex'))
    ownerHas({ path: 'one.bin', pieces: [shared, 'b'.repeat(20_000)] }, { path: 'two.bin', pieces: [shared, 'c'.repeat(20_000)] })
    const result = await pullFolder(init())
    expect(result.problems).toEqual([])
    expect(fetches).toBe(3)
    expect(await readFile(join(root, 'one.bin'), 'utf8')).toBe(shared + 'b'.repeat(20_000))
    expect(await readFile(join(root, 'two.bin'), 'utf8')).toBe(shared + 'c'.repeat(20_000))
  })

  it('builds big files a few at a time, each in its place before the next is begun', async () => {
    const pieces = (letter: string) => [letter.repeat(20_000), letter.toUpperCase().repeat(20_000), `${letter}!`.repeat(10_000)]
    ownerHas({ path: 'one.bin', pieces: pieces('a') }, { path: 'two.bin', pieces: pieces('b') }, { path: 'three.bin', pieces: pieces('c') })
    // Two of these 60 000-byte files weigh more than the 100 000 bytes allowed at once.
    const base = init()
    const seen: Array<{ fetched: string, inPlace: string[] }> = []
    const pulled = await pullFolder({
      ...base,
      fileBytesInFlight: 100_000,
      fetchChunk: async (hash, size, device) => {
        const bytes = await base.fetchChunk(hash, size, device)
        const inPlace = (await readdir(root)).filter(name => name.endsWith('.bin')).sort()
        seen.push({ fetched: Buffer.from(bytes.subarray(0, 1)).toString().toLowerCase(), inPlace })
        return bytes
      }
    })
    expect(pulled.problems).toEqual([])
    // In need() order (by path): one, three, two; a file's chunks come only once those before it are in place.
    expect(seen.map(s => s.fetched)).toEqual(['a', 'a', 'a', 'c', 'c', 'c', 'b', 'b', 'b'])
    expect(seen.find(s => s.fetched === 'c')?.inPlace).toEqual(['one.bin'])
    expect(seen.find(s => s.fetched === 'b')?.inPlace).toEqual(['one.bin', 'three.bin'])
    expect(await readFile(join(root, 'two.bin'), 'utf8')).toBe(pieces('b').join(''))
  })

  it('leaves alone a file that appeared, unscanned, where this device never had one', async () => {
    ownerHas({ path: 'notes.txt', pieces: ['the peer\'s notes'] })
    // The user saved a file of the same name before any scan saw it: it is theirs, not ours to replace.
    await writeFile(join(root, 'notes.txt'), 'my own notes')
    const result = await pullFolder(init())
    expect(result.skipped).toBe(1)
    expect(await readFile(join(root, 'notes.txt'), 'utf8')).toBe('my own notes')
    expect(member.getLocal(F, 'notes.txt')).toBeUndefined()
  })

  it('builds a small file on the next pull when a chunk could not be had, from the temporary file the failed attempt left', async () => {
    ownerHas({ path: 'small.txt', pieces: ['first part, ', 'second part'] })
    const missing = Buffer.from(chunk('second part').hash).toString('hex')
    const base = init()
    const failing = await pullFolder({
      ...base,
      fetchChunk: async (hash, size, device) => {
        if (Buffer.from(hash).toString('hex') === missing) throw new Error('no peer has this chunk')
        return await base.fetchChunk(hash, size, device)
      }
    })
    expect(failing.problems.map(p => p.path)).toEqual(['small.txt'])
    // Nothing at the path; only the temporary file.
    expect((await readdir(root)).map(name => name.startsWith('.aerie-tmp-small.txt-'))).toEqual([true])

    const result = await pullFolder(base)
    expect(result.problems).toEqual([])
    expect(await readFile(join(root, 'small.txt'), 'utf8')).toBe('first part, second part')
    expect(await readdir(root)).toEqual(['small.txt'])
  })

  it('keeps a share of the disk free: a file that does not fit is not begun, the others are built, and it comes once there is room', async () => {
    ownerHas({ path: 'small.txt', pieces: ['a small file'] }, { path: 'big.bin', pieces: ['a file too big for the room that is left on it'] })
    // A disk of 10 000 bytes with 140 free: 1% (100 bytes) is kept, so 40 bytes of room.
    const disk = { bsize: 1, blocks: 10_000, bavail: 140 }
    const room = new DiskRoom({ path: root, statfs: async () => disk })
    const full = await pullFolder({ ...init(), room })
    expect(await readFile(join(root, 'small.txt'), 'utf8')).toBe('a small file')
    expect(full.problems).toEqual([{ path: 'big.bin', message: expect.stringMatching(/^not enough free space on the disk of .*: 46 B needed, .* kept free; free some space and it is pulled then$/) }])
    // Nothing of it was written, not even a temporary file.
    expect((await readdir(root)).sort()).toEqual(['small.txt'])

    disk.bavail = 5_000
    const later = await pullFolder({ ...init(), room: new DiskRoom({ path: root, statfs: async () => disk }) })
    expect(later.problems).toEqual([])
    expect(await readFile(join(root, 'big.bin'), 'utf8')).toBe('a file too big for the room that is left on it')
  })
})
