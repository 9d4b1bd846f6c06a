import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { conflictName, openVersionHistory } from '@aerie/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConflictName, resolveConflict } from '../src/node/conflicts.ts'

const DEVICE = 'abcdefghijklmnop'

describe('conflict names', () => {
  it('finds the original of every name the sync gives a conflict copy', () => {
    const at = Date.UTC(2026, 10, 22, 10, 15, 30)
    for (const path of ['plan.txt', 'docs/plan.txt', '.bashrc', 'archive.tar.gz', 'Makefile', 'a b/ü.md']) {
      expect(parseConflictName(conflictName(path, at, DEVICE))).toEqual({ original: path, modified: '2026-11-22T10:15:30Z', device: 'abcdefg' })
    }
    expect(parseConflictName('plan.txt')).toBeUndefined()
    expect(parseConflictName('plan.sync-conflict-2026-x.txt')).toBeUndefined()
  })
})

// Resolving a conflict never loses either version: what is not kept goes to the history.
describe('resolving a conflict', () => {
  let root: string
  let copy: string

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-conflict-'))
    await mkdir(join(root, 'docs'))
    await writeFile(join(root, 'docs/plan.txt'), 'mine')
    copy = conflictName('docs/plan.txt', Date.UTC(2026, 0, 1), DEVICE)
    await writeFile(join(root, copy), 'theirs')
  })
  afterEach(async () => { await rm(root, { recursive: true, force: true }) })

  async function history (path: string): Promise<string[]> {
    return await Promise.all((await openVersionHistory(root).list(path)).map(async v => await readFile(v.diskPath, 'utf8')))
  }

  it('keep the copy: its content becomes the file, the replaced content is in the history', async () => {
    expect(await resolveConflict(root, copy, 'copy')).toEqual({ kept: 'docs/plan.txt' })
    expect(await readFile(join(root, 'docs/plan.txt'), 'utf8')).toBe('theirs')
    expect(await readdir(join(root, 'docs'))).toEqual(['plan.txt'])
    expect(await history('docs/plan.txt')).toEqual(['mine'])
  })

  it('keep the original: the copy goes, into the history', async () => {
    await resolveConflict(root, copy, 'original')
    expect(await readFile(join(root, 'docs/plan.txt'), 'utf8')).toBe('mine')
    expect(await readdir(join(root, 'docs'))).toEqual(['plan.txt'])
    expect(await history(copy)).toEqual(['theirs'])
  })

  it('keep both: the copy gets a plain numbered name that takes no existing one', async () => {
    await writeFile(join(root, 'docs/plan (2).txt'), 'an unrelated file')
    expect(await resolveConflict(root, copy, 'both')).toEqual({ kept: 'docs/plan (3).txt' })
    expect(await readFile(join(root, 'docs/plan (3).txt'), 'utf8')).toBe('theirs')
    expect(await readFile(join(root, 'docs/plan (2).txt'), 'utf8')).toBe('an unrelated file')
    expect((await readdir(join(root, 'docs'))).sort()).toEqual(['plan (2).txt', 'plan (3).txt', 'plan.txt'])
  })

  it('refuses what is not a conflict copy, and a copy that is gone', async () => {
    await expect(resolveConflict(root, 'docs/plan.txt', 'original')).rejects.toThrow(/not a conflict copy/)
    await expect(resolveConflict(root, conflictName('docs/other.txt', 0, DEVICE), 'copy')).rejects.toThrow(/no longer there/)
    await expect(resolveConflict(root, '../' + copy, 'copy')).rejects.toThrow()
    expect(await readFile(join(root, 'docs/plan.txt'), 'utf8')).toBe('mine')
  })
})
