import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { openVersionHistory } from '@aerie/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import type { Device } from './support/agents.ts'

// The CLI and this test format local times in the same zone; a half-hour offset checks
// that offsets are written out in full.
process.env.TZ = 'Asia/Kolkata'

/** Writes `path` with `content` and mtime `mtime`, then archives it at `archivedAt`. */
async function addVersion (root: string, path: string, content: string, mtime: string, archivedAt: string): Promise<void> {
  await writeFile(join(root, path), content)
  await utimes(join(root, path), new Date(mtime), new Date(mtime))
  await openVersionHistory(root).archive(path, new Date(archivedAt))
}

// `aerie versions` finds old content by the path a person knows, and brings it back as
// a new change; it works on disk and nudges a running agent to sync it.
describe('aerie versions', () => {
  const lab = new Lab()
  let alice: Device
  let root: string
  let report: string

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    root = join(alice.home, '..', 'alice-docs')
    report = join(root, 'notes', 'report.txt')
    await mkdir(join(root, 'notes'), { recursive: true })
    await mkdir(join(root, 'other'), { recursive: true })
    // Sub-second mtimes, as real files have: the listing shows whole seconds, and the
    // time it shows must still select that version.
    await addVersion(root, 'notes/report.txt', 'first draft', '2026-01-10T08:00:00.400Z', '2026-01-10T09:00:00Z')
    await addVersion(root, 'notes/report.txt', 'second draft', '2026-01-10T10:00:00.700Z', '2026-01-10T11:00:00Z')
    await writeFile(report, 'current draft')
    await utimes(report, new Date('2026-01-10T12:00:00Z'), new Date('2026-01-10T12:00:00Z'))
    await addVersion(root, 'notes/gone.txt', 'deleted since', '2026-01-09T08:00:00Z', '2026-01-09T09:00:00Z')
    await addVersion(root, 'other/a.txt', 'elsewhere', '2026-01-08T08:00:00Z', '2026-01-08T09:00:00Z')
    await alice.ok('folder', 'add', root, '--id', 'docs')
  })
  afterAll(async () => { await lab.stopAll() })

  it('lists a file\'s versions newest first, in local time, with the command to restore one', async () => {
    // Relative to the working directory, as a person would type it.
    const out = await alice.ok('versions', relative(process.cwd(), report))
    const lines = out.trim().split('\n')
    expect(lines[0]).toBe('"notes/report.txt" in folder docs: 2 versions, newest first')
    expect(lines[1]).toMatch(/^ {2}ARCHIVED +MODIFIED +SIZE$/)
    expect(lines[2]).toMatch(/^ {2}2026-01-10T16:30:00\+05:30 +2026-01-10T15:30:00\+05:30 +12 B$/)
    expect(lines[3]).toMatch(/^ {2}2026-01-10T14:30:00\+05:30 +2026-01-10T13:30:00\+05:30 +11 B$/)
    expect(lines[4]).toMatch(/aerie versions restore \S*notes\/report\.txt --at 2026-01-10T15:30:00\+05:30$/)
  })

  it('lists every version under a directory, and under the folder root', async () => {
    const notes = await alice.ok('versions', join(root, 'notes'))
    expect(notes).toMatch(/"notes" in folder docs: 3 versions, by path, newest first/)
    expect(notes).toMatch(/notes\/gone\.txt/)
    expect(notes).not.toMatch(/other\/a\.txt/)
    const all = await alice.ok('versions', root)
    expect(all).toMatch(/folder docs: 4 versions/)
    expect(all).toMatch(/other\/a\.txt/)
  })

  it('--json gives the versions as data', async () => {
    const listed = JSON.parse(await alice.ok('versions', report, '--json')) as { folder: string, path: string, versions: Array<{ path: string, archivedAt: string, mtime: string, size: number }> }
    expect(listed.folder).toBe('docs')
    expect(listed.path).toBe('notes/report.txt')
    expect(listed.versions.map(v => [v.archivedAt, v.mtime, v.size])).toEqual([
      ['2026-01-10T11:00:00.000Z', '2026-01-10T10:00:00.700Z', 12],
      ['2026-01-10T09:00:00.000Z', '2026-01-10T08:00:00.400Z', 11]
    ])
  })

  it('a file without versions, or a deleted one, is listed too', async () => {
    const none = await alice.cli('versions', join(root, 'notes', 'new.txt'))
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(/"notes\/new\.txt" in folder docs has no versions/)
    expect(await alice.ok('versions', join(root, 'notes', 'gone.txt'))).toMatch(/1 version, newest first/)
  })

  it('restore brings back the version current at a time, and keeps what it replaced', async () => {
    const before = Date.now()
    const out = await alice.ok('versions', 'restore', report, '--at', '2026-01-10T09:30:00Z')
    expect(out).toMatch(/restored .*report\.txt to the version modified 2026-01-10T13:30:00\+05:30 \(archived 2026-01-10T14:30:00\+05:30\)/)
    expect(out).toMatch(/undo with: aerie versions restore \S+ --at 2026-01-10T17:30:00\+05:30/)
    expect(out).toMatch(/the agent has rescanned folder docs/)
    expect(await readFile(report, 'utf8')).toBe('first draft')
    // A new change, so the watcher and peers take it as one.
    expect((await stat(report)).mtimeMs).toBeGreaterThanOrEqual(before - 1000)
    const listed = JSON.parse(await alice.ok('versions', report, '--json')) as { versions: Array<{ mtime: string }> }
    expect(listed.versions.map(v => v.mtime)).toContain('2026-01-10T12:00:00.000Z')

    // The MODIFIED time the listing shows selects that version, though mtimes have fractions.
    await alice.ok('versions', 'restore', report, '--at', '2026-01-10T15:30:00+05:30')
    expect(await readFile(report, 'utf8')).toBe('second draft')
    // The undo hint's time brings back the content the first restore replaced.
    await alice.ok('versions', 'restore', report, '--at', '2026-01-10T17:30:00+05:30')
    expect(await readFile(report, 'utf8')).toBe('current draft')
  })

  it('restore brings a deleted file back, with a version name\'s UTC time or "now"', async () => {
    const gone = join(root, 'notes', 'gone.txt')
    await alice.ok('versions', 'restore', gone, '--at', '20260109-090000')
    expect(await readFile(gone, 'utf8')).toBe('deleted since')
    await alice.ok('versions', 'restore', join(root, 'other', 'a.txt'), '--at', 'now')
    expect(await readFile(join(root, 'other', 'a.txt'), 'utf8')).toBe('elsewhere')
  })

  it('a time before every version says which versions there are, in one line', async () => {
    const result = await alice.cli('versions', 'restore', report, '--at', '2025-12-31T00:00:00Z')
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/no version of "notes\/report\.txt" was current at .*; its versions: modified .*2026-01-10T08:00:00.400Z/)
  })

  it('a time it cannot read is a usage error that names the accepted forms', async () => {
    const result = await alice.cli('versions', 'restore', report, '--at', 'last tuesday')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/"last tuesday" is not a time; .*2026-11-22T10:15:00.*20261122-101500 \(UTC\).*10m, 2h or 3d/)
    expect((await alice.cli('versions', 'restore', report)).code).toBe(2)
  })

  it('a path outside every synced folder names the folders', async () => {
    const result = await alice.cli('versions', join(alice.home, 'config.json'))
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/config\.json is not in a synced folder; this device syncs .*alice-docs \(docs\)/)
  })

  it('restore refuses a directory', async () => {
    const result = await alice.cli('versions', 'restore', join(root, 'notes'), '--at', 'now')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/is a directory: restore its files one at a time/)
  })

  it('folder retention shows and sets how many versions a folder keeps and how long; the running agent prunes to it at once', async () => {
    expect(await alice.ok('folder', 'retention', 'docs')).toMatch(/^folder docs keeps the newest 10 versions of each replaced or deleted file, for 30 days/)
    const none = await alice.cli('folder', 'retention', 'docs', '--keep', '0')
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/keep at least 1 version of each file/)
    expect((await alice.cli('folder', 'retention', 'docs', '--days', 'soon')).code).toBe(2)
    expect((await alice.cli('folder', 'retention', 'nope', '--keep', '3')).stderr).toMatch(/no folder "nope"/)

    const versionsOf = async (path: string): Promise<number> => (await openVersionHistory(root).list(path)).length
    expect(await versionsOf('notes/report.txt')).toBeGreaterThan(1)
    expect(await alice.ok('folder', 'retention', 'docs', '--keep', '1', '--days', '0'))
      .toMatch(/^folder docs keeps the newest 1 version of each replaced or deleted file, however old/)
    await waitFor(async () => await versionsOf('notes/report.txt') === 1, 'the agent to prune the history to one version a file')
    expect(await alice.ok('versions', report)).toMatch(/1 version, newest first/)
    // Kept across restarts, and shown as set.
    expect(await alice.ok('folder', 'retention', 'docs', '--days', '7')).toMatch(/newest 1 version .*, for 7 days/)
  })
})
