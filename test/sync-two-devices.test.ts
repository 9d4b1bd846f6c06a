import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { describeTree, sameTree, treeDiff } from './support/trees.ts'
import type { Device, Status } from './support/agents.ts'

interface FolderView { id: string, state: string, needFiles: number, needBytes: number, inSync: boolean, role?: string }
interface SyncStatus extends Status {
  folders: FolderView[]
  offers: Array<{ folder: string, role: string }>
  peers: Array<Status['peers'][number] & { bytesIn: number, bytesOut: number }>
}
const statusOf = async (device: Device): Promise<SyncStatus> => await device.status() as SyncStatus

// Two real agents share a folder: the owner shares it, the other accepts the offer, and from
// then on every change on either side ends up, byte for byte, on the other.
describe('a folder shared by two devices', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let a: string
  let b: string

  const inSync = async (): Promise<void> => {
    await waitFor(async () => await sameTree(a, b), 'the folders to match', 40_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await treeDiff(a, b)}\nalice: ${alice.log.slice(-3000)}\nbob: ${bob.log.slice(-3000)}`)
    })
  }

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    a = join(alice.home, '..', 'alice-team')
    b = join(bob.home, '..', 'bob-team')
    await mkdir(join(a, 'docs', 'deep', 'er'), { recursive: true })
    await mkdir(join(a, 'empty-dir'))
    await writeFile(join(a, 'docs', 'readme.md'), '# hello\n')
    await writeFile(join(a, 'docs', 'deep', 'er', 'notes.txt'), 'nested')
    await writeFile(join(a, 'zero-bytes'), '')
    await writeFile(join(a, 'tool.sh'), '#!/bin/sh\necho hi\n')
    await chmod(join(a, 'tool.sh'), 0o755)
    await writeFile(join(a, 'big.bin'), randomBytes(12 * 1024 * 1024))
    await symlink('docs/readme.md', join(a, 'link-to-readme'))
    await mkdir(join(a, 'many'))
    for (let i = 0; i < 2000; i++) await writeFile(join(a, 'many', `f${i}.txt`), `small file ${i}\n`)
    await mkdir(b)
  }, 120_000)
  afterAll(async () => { await lab.stopAll() })

  it('the owner shares the folder; the other device sees the offer and accepts it', async () => {
    await alice.ok('folder', 'add', a, '--id', 'team')
    const bobId = (await statusOf(bob)).deviceId
    expect(await alice.ok('folder', 'share', 'team', bobId, '--role', 'editor')).toMatch(/shared with .* as editor/)
    await waitFor(async () => (await statusOf(bob)).offers.some(o => o.folder === 'team' && o.role === 'editor'), 'the offer to reach bob')
    // A member that has not accepted yet has nothing alice could be missing.
    await waitFor(async () => (await statusOf(alice)).folders.find(f => f.id === 'team')?.inSync === true, 'alice to say in sync while bob has not accepted')
    await bob.ok('folder', 'add', b, '--id', 'team')
    await inSync()
    const bobStatus = await statusOf(bob)
    await waitFor(async () => (await statusOf(bob)).folders[0]?.inSync === true, 'bob to say in sync')
    expect(bobStatus.folders[0]?.role).toBe('editor')
    const fromAlice = bobStatus.peers.find(p => p.deviceName === 'alice')
    expect(fromAlice?.bytesIn).toBeGreaterThan(12 * 1024 * 1024)
  })

  it('edits, new files, renames and deletions on either side reach the other', async () => {
    await writeFile(join(b, 'docs', 'readme.md'), '# hello from bob\n')
    await writeFile(join(b, 'new-on-bob.txt'), 'new')
    await rename(join(b, 'many', 'f1.txt'), join(b, 'many', 'renamed.txt'))
    await bob.ok('folder', 'rescan', 'team')
    await inSync()
    expect(await readFile(join(a, 'docs', 'readme.md'), 'utf8')).toBe('# hello from bob\n')

    await rm(join(a, 'docs', 'deep'), { recursive: true })
    await rm(join(a, 'zero-bytes'))
    await alice.ok('folder', 'rescan', 'team')
    await inSync()
    // What the sync deleted or replaced on bob is in bob's version history, not gone.
    const versions = await readdir(join(b, '.aerie-versions', 'docs', 'deep', 'er'))
    expect(versions.some(name => name.startsWith('notes~'))).toBe(true)
  })

  it('a file replaced by a directory or a symlink on one device is replaced on the other, the old file kept in its history', async () => {
    await writeFile(join(a, 'turns-into-dir'), 'a file first')
    await writeFile(join(a, 'turns-into-link'), 'a file too')
    await alice.ok('folder', 'rescan', 'team')
    await inSync()
    await rm(join(a, 'turns-into-dir'))
    await mkdir(join(a, 'turns-into-dir'))
    await writeFile(join(a, 'turns-into-dir', 'inside.txt'), 'now a directory')
    await rm(join(a, 'turns-into-link'))
    await symlink('docs/readme.md', join(a, 'turns-into-link'))
    await alice.ok('folder', 'rescan', 'team')
    await inSync()
    expect(await readFile(join(b, 'turns-into-dir', 'inside.txt'), 'utf8')).toBe('now a directory')
    expect((await lstat(join(b, 'turns-into-link'))).isSymbolicLink()).toBe(true)
    const kept = await readdir(join(b, '.aerie-versions'))
    expect(kept.some(name => name.startsWith('turns-into-dir~'))).toBe(true)
    expect(kept.some(name => name.startsWith('turns-into-link~'))).toBe(true)
  })

  it('a file renamed on one device is renamed on the other, not sent again', async () => {
    const bytesFromBob = async (): Promise<number> => (await statusOf(alice)).peers.find(p => p.deviceName === 'bob')?.bytesIn ?? 0
    const inode = (await stat(join(a, 'big.bin'))).ino
    const before = await bytesFromBob()
    await rename(join(b, 'big.bin'), join(b, 'docs', 'big-moved.bin'))
    await bob.ok('folder', 'rescan', 'team')
    await inSync()
    // The same file (inode) under its new name, and only index records crossed the wire.
    expect((await stat(join(a, 'docs', 'big-moved.bin'))).ino).toBe(inode)
    expect(await bytesFromBob() - before).toBeLessThan(64 * 1024)
  })

  it('ignored files are neither sent nor touched, on either side', async () => {
    await writeFile(join(a, '.aerieignore'), '*.tmp\nbuild/\n')
    await writeFile(join(a, 'scratch.tmp'), 'alice scratch')
    await mkdir(join(a, 'build'))
    await writeFile(join(a, 'build', 'out.bin'), 'alice build output')
    await alice.ok('folder', 'rescan', 'team')
    await waitFor(async () => await readFile(join(b, '.aerieignore'), 'utf8').catch(() => '') === '*.tmp\nbuild/\n', 'the ignore file to reach bob')
    // Bob has his own file under the same ignored name: it must survive alice's.
    await writeFile(join(b, 'scratch.tmp'), 'bob scratch')
    await bob.ok('folder', 'rescan', 'team')
    await alice.ok('folder', 'rescan', 'team')
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(await readFile(join(b, 'scratch.tmp'), 'utf8')).toBe('bob scratch')
    expect(await readFile(join(a, 'scratch.tmp'), 'utf8')).toBe('alice scratch')
    await expect(stat(join(b, 'build'))).rejects.toThrow(/ENOENT/)
  })

  it('a folder that is not shared with a device is not sent to it', async () => {
    const secret = join(alice.home, '..', 'alice-secret')
    await mkdir(secret)
    await writeFile(join(secret, 'salary.txt'), 'private')
    await alice.ok('folder', 'add', secret, '--id', 'secret')
    await alice.ok('folder', 'rescan', 'secret')
    expect((await statusOf(bob)).offers.some(o => o.folder === 'secret')).toBe(false)
    // Even a folder bob sets up with the same id gets nothing from alice.
    const bobSecret = join(bob.home, '..', 'bob-secret')
    await mkdir(bobSecret)
    await bob.ok('folder', 'add', bobSecret, '--id', 'secret')
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect(Object.keys(await describeTree(bobSecret))).toEqual([])
  })
})
