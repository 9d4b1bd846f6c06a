import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../src/errors.ts'
import { VERSIONS_DIR } from '../../src/scan/index.ts'
import { assertNoSymlinkParents, openVersionHistory } from '../../src/sync/version-history.ts'

// Before the sync replaces or deletes a file it hands the old one to the history; a user
// can list, find and restore it, and retention keeps the history bounded.
describe('version history', () => {
  let dir: string
  let root: string
  let outside: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-versions-'))
    root = join(dir, 'folder')
    outside = join(dir, 'outside')
    await mkdir(root)
    await mkdir(outside)
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const at = (iso: string) => new Date(iso)
  const put = async (path: string, content: string, mtime?: string) => {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), content)
    if (mtime != null) await utimes(join(root, path), at(mtime), at(mtime))
  }
  const history = (policy = {}) => openVersionHistory(root, policy)
  const names = async (sub = '') => (await readdir(join(root, VERSIONS_DIR, sub))).sort()

  it('archives a file by moving it, keeping its mtime, mode and bytes, and lists it', async () => {
    await put('docs/report.docx', 'draft 1', '2026-11-20T08:00:00Z')
    await chmod(join(root, 'docs/report.docx'), 0o750)
    const h = history()
    const version = await h.archive('docs/report.docx', at('2026-11-22T10:15:00.700Z'))

    expect(version).toMatchObject({ path: 'docs/report.docx', archivedAt: at('2026-11-22T10:15:00Z'), mtime: at('2026-11-20T08:00:00Z'), size: 7 })
    expect(version!.diskPath).toBe(join(root, VERSIONS_DIR, 'docs/report~20261122-101500.docx'))
    await expect(lstat(join(root, 'docs/report.docx'))).rejects.toThrow(/ENOENT/)
    expect(await readFile(version!.diskPath, 'utf8')).toBe('draft 1')
    expect((await stat(version!.diskPath)).mode & 0o777).toBe(0o750)
    expect(await h.list('docs/report.docx')).toEqual([version])
    expect(await h.listAll()).toEqual([version])
  })

  it('keeps a file about to be replaced without moving it: the path is never missing, and the new content is renamed over it', async () => {
    await put('docs/report.docx', 'draft 1', '2026-11-20T08:00:00Z')
    await chmod(join(root, 'docs/report.docx'), 0o640)
    const h = history()
    const kept = await h.keep('docs/report.docx', at('2026-11-22T10:15:00Z'))
    expect(kept).toMatchObject({ path: 'docs/report.docx', mtime: at('2026-11-20T08:00:00Z'), size: 7 })
    // Still there, under both names.
    expect(await readFile(join(root, 'docs/report.docx'), 'utf8')).toBe('draft 1')
    expect(await readFile(kept!.diskPath, 'utf8')).toBe('draft 1')
    await writeFile(join(root, 'docs/new'), 'draft 2')
    await rename(join(root, 'docs/new'), join(root, 'docs/report.docx'))
    expect(await readFile(kept!.diskPath, 'utf8')).toBe('draft 1')
    expect((await stat(kept!.diskPath)).mode & 0o777).toBe(0o640)
    // A second keep in the same second takes the next name; nothing is replaced.
    const again = await h.keep('docs/report.docx', at('2026-11-22T10:15:00Z'))
    expect(basename(again!.diskPath)).toBe('report~20261122-101500-1.docx')
    expect((await h.list('docs/report.docx')).map(v => v.size)).toEqual([7, 7])
    expect(await h.keep('docs/missing.txt')).toBeUndefined()
  })

  it('restores with the path present throughout: a reader polling it never finds it missing', async () => {
    const h = history()
    await put('doc.txt', 'version one', '2026-11-16T09:00:00Z')
    await h.archive('doc.txt', at('2026-11-17T09:00:00Z'))
    await put('doc.txt', 'version two', '2026-11-17T09:00:00Z')
    let missing = 0
    let reads = 0
    let restoring = true
    const reader = (async () => {
      // Bounded: it stops when the restores end, or after 100 000 looks.
      while (restoring && reads < 100_000) {
        reads++
        await lstat(join(root, 'doc.txt')).catch(() => { missing++ })
      }
    })()
    for (let i = 0; i < 20; i++) {
      await h.restore('doc.txt', at(i % 2 === 0 ? '2026-11-16T12:00:00Z' : '2026-11-17T12:00:00Z'), new Date(Date.UTC(2026, 10, 18, 12, i)))
    }
    restoring = false
    await reader
    expect(reads).toBeGreaterThan(0)
    expect(missing).toBe(0)
    expect(await readFile(join(root, 'doc.txt'), 'utf8')).toBe('version two')
  })

  it('returns undefined for a missing file or a directory, and archives a symlink as a link', async () => {
    const h = history()
    expect(await h.archive('nothing.txt')).toBeUndefined()
    await mkdir(join(root, 'a-dir'))
    expect(await h.archive('a-dir')).toBeUndefined()
    expect((await lstat(join(root, 'a-dir'))).isDirectory()).toBe(true)

    await symlink('/etc/passwd', join(root, 'link'))
    const version = await h.archive('link', at('2026-11-22T10:15:00Z'))
    expect(await readlink(version!.diskPath)).toBe('/etc/passwd')
    expect((await h.list('link')).map(v => v.diskPath)).toEqual([version!.diskPath])
  })

  it('keeps two archives of one file in the same second, newest first', async () => {
    const h = history()
    const second = at('2026-11-22T10:15:00Z')
    await put('a.txt', 'one')
    const first = await h.archive('a.txt', second)
    await put('a.txt', 'two')
    const next = await h.archive('a.txt', new Date(second.getTime() + 500))
    await put('a.txt', 'three')
    await h.archive('a.txt', second)

    expect(await names()).toEqual(['a~20261122-101500-1.txt', 'a~20261122-101500-2.txt', 'a~20261122-101500.txt'])
    const listed = await h.list('a.txt')
    expect(listed.map(v => basename(v.diskPath))).toEqual(['a~20261122-101500-2.txt', 'a~20261122-101500-1.txt', 'a~20261122-101500.txt'])
    expect(await readFile(listed[2]!.diskPath, 'utf8')).toBe('one')
    expect(first!.diskPath).not.toBe(next!.diskPath)
  })

  it('names versions like Syncthing: the tag goes before the extension, after a dotfile or a bare name', async () => {
    const h = history()
    const when = at('2026-11-22T10:15:00Z')
    for (const name of ['report.docx', '.bashrc', 'Makefile', 'archive.tar.gz', 'x~20250101-000000.txt']) {
      await put(name, name)
      await h.archive(name, when)
    }
    expect(await names()).toEqual([
      '.bashrc~20261122-101500',
      'Makefile~20261122-101500',
      'archive.tar~20261122-101500.gz',
      'report~20261122-101500.docx',
      'x~20250101-000000~20261122-101500.txt'
    ])
    // Each name parses back to the file it came from.
    expect((await h.listAll()).map(v => v.path)).toEqual(['.bashrc', 'Makefile', 'archive.tar.gz', 'report.docx', 'x~20250101-000000.txt'])
  })

  it('finds the version whose content was current at a time: the latest mtime not after it', async () => {
    const h = history()
    await put('notes.md', 'monday', '2026-11-16T09:00:00Z')
    await h.archive('notes.md', at('2026-11-17T09:00:00Z'))
    await put('notes.md', 'tuesday', '2026-11-17T09:00:00Z')
    await h.archive('notes.md', at('2026-11-18T09:00:00Z'))

    const content = async (when: string) => {
      const v = await h.find('notes.md', at(when))
      return v == null ? undefined : await readFile(v.diskPath, 'utf8')
    }
    expect(await content('2026-11-15T00:00:00Z')).toBeUndefined()
    expect(await content('2026-11-16T09:00:00Z')).toBe('monday')
    expect(await content('2026-11-17T08:59:59Z')).toBe('monday')
    expect(await content('2026-11-17T12:00:00Z')).toBe('tuesday')
    expect(await h.find('other.md', at('2026-11-17T12:00:00Z'))).toBeUndefined()
  })

  it('restores a version as a new change and archives the current file first, so the restore can be undone', async () => {
    const h = history()
    await put('doc.txt', 'good text', '2026-11-16T09:00:00Z')
    await chmod(join(root, 'doc.txt'), 0o600)
    await h.archive('doc.txt', at('2026-11-17T09:00:00Z'))
    await put('doc.txt', 'overwritten by a peer', '2026-11-17T09:00:00Z')

    const now = at('2026-11-18T12:00:00Z')
    const restored = await h.restore('doc.txt', at('2026-11-16T12:00:00Z'), now)
    expect(restored.mtime).toEqual(at('2026-11-16T09:00:00Z'))
    expect(await readFile(join(root, 'doc.txt'), 'utf8')).toBe('good text')
    const st = await stat(join(root, 'doc.txt'))
    expect(st.mtime).toEqual(now)
    expect(st.mode & 0o777).toBe(0o600)

    const versions = await h.list('doc.txt')
    expect(versions).toHaveLength(2)
    // The history keeps what it restored, and now also holds what the restore replaced.
    expect(await readFile(versions[0]!.diskPath, 'utf8')).toBe('overwritten by a peer')
    expect(await readFile(versions[1]!.diskPath, 'utf8')).toBe('good text')
    expect((await readdir(root)).filter(n => n.startsWith('.aerie-tmp-'))).toEqual([])

    // Undo: back to what the peer wrote.
    await h.restore('doc.txt', at('2026-11-17T12:00:00Z'), at('2026-11-18T12:05:00Z'))
    expect(await readFile(join(root, 'doc.txt'), 'utf8')).toBe('overwritten by a peer')
  })

  it('restores a deleted file whose directories are gone', async () => {
    const h = history()
    await put('a/b/c.txt', 'deep', '2026-11-16T09:00:00Z')
    await h.archive('a/b/c.txt', at('2026-11-17T09:00:00Z'))
    await rm(join(root, 'a'), { recursive: true })

    await h.restore('a/b/c.txt', at('2026-11-17T00:00:00Z'))
    expect(await readFile(join(root, 'a/b/c.txt'), 'utf8')).toBe('deep')
  })

  it('says what to do when a file now stands where a parent directory was', async () => {
    const h = history()
    await put('a/b/c.txt', 'deep', '2026-11-16T09:00:00Z')
    await h.archive('a/b/c.txt', at('2026-11-17T09:00:00Z'))
    await rm(join(root, 'a'), { recursive: true })
    await writeFile(join(root, 'a'), 'a file now')

    await expect(h.restore('a/b/c.txt', at('2026-11-17T00:00:00Z'))).rejects.toThrow(/a file now stands where one of its parent directories was/)
    expect(await readFile(join(root, 'a'), 'utf8')).toBe('a file now')
  })

  it('says which versions exist when none matches the time', async () => {
    const h = history()
    await expect(h.restore('gone.txt', new Date())).rejects.toThrow(/"gone.txt" has no versions/)
    await put('doc.txt', 'x', '2026-11-16T09:00:00Z')
    await h.archive('doc.txt', at('2026-11-17T09:00:00Z'))
    const err = await h.restore('doc.txt', at('2026-01-01T00:00:00Z')).catch(e => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect(err.message).toContain('modified 2026-11-16T09:00:00.000Z')
    // Nothing was written: the file stays deleted rather than half-restored.
    await expect(lstat(join(root, 'doc.txt'))).rejects.toThrow(/ENOENT/)
  })

  it('prunes beyond the number of versions per file and removes emptied directories', async () => {
    const h = history({ keepVersions: 2, maxAgeDays: 0 })
    for (let i = 0; i < 4; i++) {
      await put('sub/deep/f.txt', `v${i}`)
      await h.archive('sub/deep/f.txt', at(`2026-11-2${i}T00:00:00Z`))
    }
    await put('other.txt', 'keep me')
    await h.archive('other.txt', at('2026-11-25T00:00:00Z'))

    expect(await h.prune(at('2026-11-25T12:00:00Z'))).toEqual({ removed: 2 })
    const left = await h.listAll()
    expect(left.map(v => `${v.path} ${v.archivedAt.toISOString().slice(0, 10)}`)).toEqual([
      'other.txt 2026-11-25', 'sub/deep/f.txt 2026-11-23', 'sub/deep/f.txt 2026-11-22'
    ])

    // Age takes the rest of sub/deep/f.txt; the directories it leaves empty go too.
    expect(await history({ maxAgeDays: 1 }).prune(at('2026-11-25T12:00:00Z'))).toEqual({ removed: 2 })
    expect(await names()).toEqual(['other~20261125-000000.txt'])
  })

  it('prunes versions older than the maximum age, and keeps them all with 0', async () => {
    const archiveAt = async (h: ReturnType<typeof history>, iso: string) => {
      await put('f.txt', iso)
      await h.archive('f.txt', at(iso))
    }
    const h = history({ keepVersions: 10, maxAgeDays: 30 })
    await archiveAt(h, '2026-01-01T00:00:00Z')
    await archiveAt(h, '2026-03-01T00:00:00Z')
    await archiveAt(h, '2026-03-20T00:00:00Z')

    expect(await history({ maxAgeDays: 0 }).prune(at('2030-01-01T00:00:00Z'))).toEqual({ removed: 0 })
    expect(await h.prune(at('2026-03-25T00:00:00Z'))).toEqual({ removed: 1 })
    expect((await h.list('f.txt')).map(v => v.archivedAt.toISOString())).toEqual(['2026-03-20T00:00:00.000Z', '2026-03-01T00:00:00.000Z'])
  })

  it('refuses paths outside the folder, inside the history, or through a symlinked directory', async () => {
    const h = history()
    await writeFile(join(outside, 'secret.txt'), 'outside')
    await symlink(outside, join(root, 'escape'))
    for (const bad of ['../x', '/etc/passwd', 'a/../../x', '', `${VERSIONS_DIR}/a~20261122-101500.txt`]) {
      await expect(h.archive(bad)).rejects.toBeInstanceOf(InvalidInputError)
      await expect(h.list(bad)).rejects.toBeInstanceOf(InvalidInputError)
    }
    await expect(h.archive('escape/secret.txt')).rejects.toThrow(/"escape" is a symlink/)
    await expect(h.restore('escape/secret.txt', new Date())).rejects.toBeInstanceOf(InvalidInputError)
    await expect(assertNoSymlinkParents(root, 'escape/new/file.txt')).rejects.toBeInstanceOf(InvalidInputError)
    // The link itself is an entry of the folder, not a parent: fine to archive.
    await assertNoSymlinkParents(root, 'escape')
    await assertNoSymlinkParents(root, 'missing/dirs/file.txt')
    expect(await readdir(outside)).toEqual(['secret.txt'])
  })

  it('refuses a symlinked history directory rather than moving files out of the folder', async () => {
    await symlink(outside, join(root, VERSIONS_DIR))
    await put('a.txt', 'mine')
    await expect(history().archive('a.txt')).rejects.toThrow(/is a symlink/)
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('mine')
    expect(await readdir(outside)).toEqual([])
  })

  it('ignores names in the history that do not parse', async () => {
    const h = history()
    await put('a.txt', 'x')
    await h.archive('a.txt', at('2026-11-22T10:15:00Z'))
    const versions = join(root, VERSIONS_DIR)
    for (const name of ['a.txt', 'a~2026-11-22.txt', 'a~20261322-101500.txt', 'a~20261122-101500-0.txt', 'a.x~20261122-101500', 'README']) {
      await writeFile(join(versions, name), 'stray')
    }
    await mkdir(join(versions, 'a~20261122-101500.dir'))
    expect((await h.listAll()).map(v => v.diskPath)).toEqual([join(versions, 'a~20261122-101500.txt')])
    expect(await h.list('a.txt')).toHaveLength(1)
    expect(await h.prune(at('2030-01-01T00:00:00Z'))).toEqual({ removed: 1 })
    expect(await names()).toHaveLength(7)
  })

  it('refuses a retention policy that would keep nothing', () => {
    expect(() => openVersionHistory(root, { keepVersions: 0 })).toThrow(InvalidInputError)
    expect(() => openVersionHistory(root, { maxAgeDays: -1 })).toThrow(InvalidInputError)
  })
})
