import { createSecretKey, randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { backupPaths, findEntry, listEntries, RestoreConflictError, restoreSnapshot, storeRepository } from '../../src/backup/index.ts'
import { openPackStore } from '../../src/store/index.ts'
import { DiskFullError } from '../../src/errors.ts'
import { DiskRoom } from '../../src/util/disk-room.ts'
import type { BackupTarget, BlobSource } from '../../src/backup/index.ts'
import type { ChunkStore } from '../../src/store/index.ts'

// Snapshots into a real pack store and back: bytes, modes, mtimes, incremental cost, dedupe,
// files that change while read, and restores that refuse to overwrite or meet damage.

const MTIME = new Date('2024-05-06T07:08:09.000Z')

async function makeTree (dir: string, big: Buffer): Promise<void> {
  await mkdir(join(dir, 'docs/deep/er'), { recursive: true })
  await mkdir(join(dir, 'empty-dir'))
  await writeFile(join(dir, 'docs/report.txt'), 'quarterly numbers\n')
  await writeFile(join(dir, 'docs/deep/er/Ünïcödé – ファイル.txt'), 'unicode name')
  await writeFile(join(dir, 'docs/empty'), '')
  await writeFile(join(dir, 'big.bin'), big)
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n')
  await chmod(join(dir, 'run.sh'), 0o755)
  await chmod(join(dir, 'docs/report.txt'), 0o600)
  await symlink('docs/report.txt', join(dir, 'link'))
  for (const name of ['docs/report.txt', 'big.bin', 'run.sh', 'docs/empty']) await utimes(join(dir, name), MTIME, MTIME)
}

/** Counts what a target is sent. */
function counting (target: BackupTarget): BackupTarget & { sent: number } {
  const t = {
    sent: 0,
    lacks: async (hashes: readonly Uint8Array[]) => await target.lacks(hashes),
    put: async (hash: Uint8Array, bytes: Uint8Array) => { t.sent += bytes.byteLength; return await target.put(hash, bytes) }
  }
  return t
}

describe('snapshots to a chunk store and restores from it', () => {
  let root: string
  let store: ChunkStore
  let repo: ReturnType<typeof storeRepository>
  let src: string
  const big = randomBytes(6 * 1024 * 1024)

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-backup-'))
    store = await openPackStore({ dir: join(root, 'store'), dataKey: createSecretKey(randomBytes(32)) })
    repo = storeRepository(store)
    src = join(root, 'home/ann/Documents')
    await mkdir(src, { recursive: true })
    await makeTree(src, big)
  })
  afterEach(async () => {
    await store.close()
    await rm(root, { recursive: true, force: true })
  })

  it('restores a tree byte for byte with its modes, mtimes and symlinks, under the path it had', async () => {
    const result = await backupPaths({ paths: [src], target: repo })
    expect(result.counters).toMatchObject({ files: 5, symlinks: 1, changed: 0, skipped: 0, bytes: big.byteLength + 18 + 12 + 18 })
    const to = join(root, 'restored')
    const restored = await restoreSnapshot({ source: repo, root: result.root, path: src, to })
    expect(restored.failed).toEqual([])
    expect(restored.files).toBe(5)
    const out = join(to, 'Documents')
    expect((await readFile(join(out, 'big.bin'))).equals(big)).toBe(true)
    expect(await readFile(join(out, 'docs/deep/er/Ünïcödé – ファイル.txt'), 'utf8')).toBe('unicode name')
    expect((await readFile(join(out, 'docs/empty'))).byteLength).toBe(0)
    expect((await lstat(join(out, 'run.sh'))).mode & 0o777).toBe(0o755)
    expect((await lstat(join(out, 'docs/report.txt'))).mode & 0o777).toBe(0o600)
    expect((await lstat(join(out, 'big.bin'))).mtime.getTime()).toBe(MTIME.getTime())
    expect(await readlink(join(out, 'link'))).toBe('docs/report.txt')
    expect((await lstat(join(out, 'empty-dir'))).isDirectory()).toBe(true)
    expect((await lstat(out)).mtime.getTime()).toBe((await lstat(src)).mtime.getTime())

    // Browsing the same snapshot by its absolute path.
    const names = (await listEntries(repo, result.root, `${src}/docs`)).map(e => e.name)
    expect(names).toEqual(['deep', 'empty', 'report.txt'])
    expect((await findEntry(repo, result.root, `${src}/big.bin`)).size).toBe(big.byteLength)
  })

  it('sends only new chunks: an incremental after editing files costs a small fraction, and unchanged trees are not read again', async () => {
    for (let i = 0; i < 50; i++) await writeFile(join(src, `docs/note-${i}.txt`), randomBytes(20_000))
    const first = counting(repo)
    const one = await backupPaths({ paths: [src], target: first })
    // One small file edited, and an insertion at the start of the large one.
    await writeFile(join(src, 'docs/note-7.txt'), randomBytes(20_000))
    await writeFile(join(src, 'big.bin'), Buffer.concat([Buffer.from('inserted at the start\n'), big]))
    const second = counting(repo)
    const two = await backupPaths({ paths: [src], target: second, parent: { source: repo, root: one.root } })
    expect(first.sent).toBeGreaterThan(big.byteLength)
    expect(second.sent).toBeLessThan(first.sent * 0.05)
    expect(two.counters.unchanged).toBeGreaterThanOrEqual(50)
    expect(two.counters.sentBytes).toBe(second.sent)
    const to = join(root, 'r2')
    await restoreSnapshot({ source: repo, root: two.root, path: `${src}/big.bin`, to })
    expect((await readFile(join(to, 'big.bin'))).subarray(22).equals(big)).toBe(true)
  })

  it('dedupes globally: the same files elsewhere (another device) send almost nothing', async () => {
    await backupPaths({ paths: [src], target: repo })
    const other = join(root, 'home/bob/Stuff')
    await mkdir(other, { recursive: true })
    await makeTree(other, big)
    const target = counting(repo)
    await backupPaths({ paths: [other], target })
    expect(target.sent).toBeLessThan(big.byteLength / 100)
  })

  it('skips excluded paths (gitignore patterns, below each backed-up path)', async () => {
    await mkdir(join(src, 'node_modules/x'), { recursive: true })
    await writeFile(join(src, 'node_modules/x/index.js'), 'x')
    await writeFile(join(src, 'docs/scratch.tmp'), 'x')
    const result = await backupPaths({ paths: [src], target: repo, excludes: ['node_modules/', '*.tmp'] })
    const names = (await listEntries(repo, result.root, src)).map(e => e.name)
    expect(names).not.toContain('node_modules')
    expect((await listEntries(repo, result.root, `${src}/docs`)).map(e => e.name)).not.toContain('scratch.tmp')
  })

  it('reads a file that changed while read again, and marks it when it changes again', async () => {
    const once = await backupPaths({
      paths: [src],
      target: repo,
      afterRead: async (path, attempt) => { if (path.endsWith('report.txt') && attempt === 0) await writeFile(path, 'edited while read\n') }
    })
    expect(once.counters.changed).toBe(0)
    expect((await findEntry(repo, once.root, `${src}/docs/report.txt`)).size).toBe('edited while read\n'.length)
    let n = 0
    const twice = await backupPaths({
      paths: [src],
      target: repo,
      afterRead: async (path) => { if (path.endsWith('report.txt')) await writeFile(path, `edit ${n++} `.repeat(n)) }
    })
    expect(twice.counters.changed).toBe(1)
    expect(twice.problems.map(p => p.path)).toEqual([join(src, 'docs/report.txt')])
    expect((await findEntry(repo, twice.root, `${src}/docs/report.txt`)).changed).toBe(true)
  })

  it('refuses to overwrite existing files unless asked, writing nothing', async () => {
    const { root: snap } = await backupPaths({ paths: [src], target: repo })
    const to = join(root, 'again')
    await mkdir(join(to, 'Documents/docs'), { recursive: true })
    await writeFile(join(to, 'Documents/docs/report.txt'), 'mine')
    const refused = await restoreSnapshot({ source: repo, root: snap, path: src, to }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(RestoreConflictError)
    expect((refused as RestoreConflictError).paths).toEqual([join(to, 'Documents/docs/report.txt')])
    await expect(lstat(join(to, 'Documents/big.bin'))).rejects.toThrow()
    const done = await restoreSnapshot({ source: repo, root: snap, path: src, to, overwrite: true })
    expect(done.failed).toEqual([])
    expect(await readFile(join(to, 'Documents/docs/report.txt'), 'utf8')).toBe('quarterly numbers\n')
  })

  it('refuses a restore the disk has no room for before writing anything, saying how much it needs', async () => {
    const { root: snap } = await backupPaths({ paths: [src], target: repo })
    const to = join(root, 'cramped')
    // A disk of 100 MB with 1.5 MB free: 1 MB is kept, so half a MB of room for a tree of over 6 MiB.
    const room = new DiskRoom({ path: to, statfs: async () => ({ bsize: 1, blocks: 100_000_000, bavail: 1_500_000 }) })
    const refused = restoreSnapshot({ source: repo, root: snap, path: src, to, room })
    await expect(refused).rejects.toBeInstanceOf(DiskFullError)
    await expect(refused).rejects.toThrow(/^not enough free space on the disk of .*cramped: 6\.0 MiB needed, 1\.4 MiB free and 976\.6 KiB \(1% of the disk\) kept free; restore to a disk with more room, or a part of the snapshot/)
    await expect(lstat(to)).rejects.toThrow(/ENOENT/)
    // A part of it fits.
    const part = await restoreSnapshot({ source: repo, root: snap, path: `${src}/docs`, to, room: new DiskRoom({ path: to, statfs: async () => ({ bsize: 1, blocks: 100_000_000, bavail: 1_500_000 }) }) })
    expect(part.failed).toEqual([])
    expect(await readFile(join(to, 'docs/report.txt'), 'utf8')).toBe('quarterly numbers\n')
  })

  it('keeps the share of the real disk it is given (the device\'s min-free setting)', async () => {
    const { root: snap } = await backupPaths({ paths: [src], target: repo })
    // No disk here is 99% free.
    await expect(restoreSnapshot({ source: repo, root: snap, path: `${src}/docs`, to: join(root, 'kept'), keepFree: 0.99 })).rejects.toThrow(/\(99% of the disk\) kept free/)
    await expect(lstat(join(root, 'kept'))).rejects.toThrow(/ENOENT/)
  })

  it('fails only the files that need a damaged chunk, and names them', async () => {
    await writeFile(join(src, 'copy-of-report.txt'), 'quarterly numbers\n')
    const { root: snap } = await backupPaths({ paths: [src], target: repo })
    const victim = (await findEntry(repo, snap, `${src}/docs/report.txt`)).chunks![0]!.hash
    const damaged: BlobSource = {
      async get (hash) {
        const bytes = await repo.get(hash)
        if (bytes !== undefined && Buffer.from(hash).equals(victim)) { const copy = Uint8Array.from(bytes); copy[0]! ^= 1; return copy }
        return bytes
      }
    }
    const to = join(root, 'partial')
    const result = await restoreSnapshot({ source: damaged, root: snap, to })
    expect(result.failed.map(f => f.path).sort()).toEqual([
      join(to, src.slice(1), 'copy-of-report.txt'), join(to, src.slice(1), 'docs/report.txt')
    ].sort())
    expect(result.failed[0]!.reason).toMatch(/damaged/)
    expect((await readFile(join(to, src.slice(1), 'big.bin'))).equals(big)).toBe(true)
    await expect(lstat(join(to, src.slice(1), 'docs/report.txt'))).rejects.toThrow()
  })

  it('plans a wide tree with a bounded number of directory reads at once, and writes nothing when one is missing', async () => {
    const wide = join(root, 'wide')
    for (let i = 0; i < 100; i++) {
      await mkdir(join(wide, `d${i}`, 'inner'), { recursive: true })
      await writeFile(join(wide, `d${i}`, 'inner', 'f.txt'), `file ${i}`)
    }
    const { root: snap } = await backupPaths({ paths: [wide], target: repo })
    const lost = (await findEntry(repo, snap, `${wide}/d42/inner`)).tree!
    let reading = 0
    let most = 0
    const watched = (skip?: Uint8Array): BlobSource => ({
      async get (hash) {
        most = Math.max(most, ++reading)
        try {
          await new Promise(resolve => setTimeout(resolve, 1))
          return skip !== undefined && Buffer.from(hash).equals(skip) ? undefined : await repo.get(hash)
        } finally {
          reading--
        }
      }
    })
    const whole = await restoreSnapshot({ source: watched(), root: snap, to: join(root, 'all') })
    expect(whole.files).toBe(100)
    expect(most).toBeLessThanOrEqual(32)
    const to = join(root, 'none')
    await expect(restoreSnapshot({ source: watched(lost), root: snap, to })).rejects.toThrow()
    await expect(lstat(to)).rejects.toThrow()
  })
})
