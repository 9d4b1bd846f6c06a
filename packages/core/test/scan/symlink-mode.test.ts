import { symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FOLDER_ID, useTempFolder } from './fixtures.ts'

// A symlink's own permission bits differ by OS (0o777 on Linux, 0o755 on macOS) and mean
// nothing: a link pulled from a Mac must not look changed here, or the next change from the
// Mac would turn into a conflict.
describe('a symlink from another OS', () => {
  const folder = useTempFolder()

  it('is not taken for a local change because of its mode', async () => {
    folder.index.applyRemote(FOLDER_ID, 'macbook', [{
      path: 'link', type: 'symlink', size: 0, mtimeMs: 1, mode: 0o755, deleted: false, chunks: [], target: 'elsewhere',
      version: { macbook: 5 }, sequence: 1, modifiedBy: 'macbook'
    }])
    const global = folder.index.globalRecord(FOLDER_ID, 'link')!.winner
    await symlink('elsewhere', join(folder.root, 'link'))
    folder.index.adoptRemote(FOLDER_ID, global)
    const result = await folder.scan()
    expect(result.changed).toBe(0)
    expect(folder.local('link')?.version).toEqual({ macbook: 5 })
  })
})
