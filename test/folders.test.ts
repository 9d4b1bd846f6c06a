import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import type { Device, Status } from './support/agents.ts'

interface FolderView { id: string, path: string, state: string, brake?: string, files: number }
const foldersOf = async (device: Device): Promise<FolderView[]> => (await device.status() as Status & { folders: FolderView[] }).folders

// A folder added on a running agent is scanned; if its files vanish wholesale (an unmounted
// disk, a moved directory) the agent records nothing and waits for the user.
describe('folders on a device', () => {
  const lab = new Lab()
  let alice: Device
  let root: string

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    root = join(alice.home, '..', 'alice-docs')
    await mkdir(join(root, 'sub'), { recursive: true })
    for (let i = 0; i < 12; i++) await writeFile(join(root, 'sub', `note${i}.txt`), `note ${i}`)
  })
  afterAll(async () => { await lab.stopAll() })

  it('folder add scans the directory and status shows it', async () => {
    expect(await alice.ok('folder', 'add', root, '--id', 'docs', '--label', 'Documents')).toMatch(/added folder docs/)
    expect((await readFile(join(root, '.aerie-folder'), 'utf8')).trim()).toBe('docs')
    await waitFor(async () => (await foldersOf(alice)).some(f => f.id === 'docs' && f.state === 'idle' && f.files === 13), 'the first scan')
    expect(await alice.ok('status')).toMatch(/folder docs \(Documents\) idle: 13 items/)
  })

  it('refuses a second folder at the same path, and a path that is not a directory', async () => {
    expect((await alice.cli('folder', 'add', root)).stderr).toMatch(/already synced as folder "docs"/)
    expect((await alice.cli('folder', 'add', join(root, 'nope'))).stderr).toMatch(/is not a directory/)
  })

  it('a folder whose files all vanish waits for confirmation instead of recording deletions', async () => {
    await rm(join(root, 'sub'), { recursive: true })
    await alice.ok('folder', 'remove', 'docs')
    await alice.ok('folder', 'add', root, '--id', 'docs')
    await waitFor(async () => (await foldersOf(alice)).some(f => f.id === 'docs' && f.state === 'needs-confirmation'), 'the brake')
    expect((await foldersOf(alice)).find(f => f.id === 'docs')?.brake).toBe('mass-deletion')
    expect(await alice.ok('folder', 'confirm', 'docs')).toMatch(/deletions recorded/)
    expect((await foldersOf(alice)).find(f => f.id === 'docs')?.state).toBe('idle')
  })

  it('folder remove stops syncing and deletes nothing', async () => {
    await writeFile(join(root, 'keep.txt'), 'keep')
    expect(await alice.ok('folder', 'remove', 'docs')).toMatch(/untouched/)
    expect(await foldersOf(alice)).toEqual([])
    expect(await readFile(join(root, 'keep.txt'), 'utf8')).toBe('keep')
  })
})
