import { createHash, randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { syncStatus } from './support/shared-folder.ts'
import type { Device } from './support/agents.ts'

// A member whose disk is nearly full: sync takes what fits, never the disk's last share (the
// user's other programs must still be able to save), says which files wait and why, and pulls
// them once there is room. The member's folder is on an 8 MiB tmpfs only its processes see.

const MiB = 1024 * 1024
const sha = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')

describe('a member with little room on its disk', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let disk: string

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    bob = await lab.enrolled(alice, 'bob')
    disk = join(bob.home, '..', 'bob-disk')
    bob.smallDisk = { dir: disk, bytes: 8 * MiB }
    await bob.start()
    await waitFor(async () => await alice.connectedTo(bob), 'alice to see bob')
  }, 60_000)
  afterAll(async () => { await lab.stopAll() })

  it('pulls what fits, keeps 1% of the disk free, says what waits, and pulls it once there is room', async () => {
    const a = join(alice.home, '..', 'alice-team')
    await mkdir(a)
    const files = new Map<string, Buffer>([['one.bin', randomBytes(3 * MiB)], ['two.bin', randomBytes(3 * MiB)], ['three.bin', randomBytes(3 * MiB)]])
    for (const [name, bytes] of files) await writeFile(join(a, name), bytes)
    await alice.ok('folder', 'add', a, '--id', 'team')
    await alice.ok('folder', 'share', 'team', (await bob.status()).deviceId)
    await waitFor(async () => (await syncStatus(bob)).offers.some(o => o.folder === 'team'), 'the offer to reach bob')
    const b = join(disk, 'team')
    await bob.onDisk('mkdir', b)
    await bob.ok('folder', 'add', b, '--id', 'team')

    // Two of the three fit in 8 MiB; the third waits, named, with the reason.
    await waitFor(async () => (await syncStatus(bob)).folders.find(f => f.id === 'team')?.pullProblems.length === 1, `a file to wait for room\n${bob.log.slice(-2000)}`, 40_000)
    const team = (await syncStatus(bob)).folders.find(f => f.id === 'team')!
    expect(team.inSync).toBe(false)
    expect(team.pullProblems[0]!.message).toMatch(/^not enough free space on the disk of .*bob-disk\/team: 3\.0 MiB needed, [\d.]+ MiB free and 81\.9 KiB \(1% of the disk\) kept free; free some space and it is pulled then$/)
    const waiting = team.pullProblems[0]!.path
    // Nothing of it is on the disk, not even a temporary file; the others are whole.
    const present = (await bob.onDisk('ls', b)).toString().split('\n').filter(name => name !== '')
    expect(present.sort()).toEqual([...files.keys()].filter(name => name !== waiting).sort())
    expect((await bob.onDisk('ls', '-A', b)).toString()).not.toMatch(/aerie-tmp/)
    for (const name of present) expect(sha(await bob.onDisk('cat', join(b, name)))).toBe(sha(files.get(name)!))
    expect((await bob.cli('status')).stdout).toMatch(new RegExp(`cannot sync ${waiting}: not enough free space`))

    // The user makes room (here: the disk grows), and sync goes on at the next look.
    await bob.onDisk('mount', '-o', 'remount,size=32m', disk)
    await bob.ok('folder', 'rescan', 'team')
    await waitFor(async () => (await syncStatus(bob)).folders.find(f => f.id === 'team')?.inSync === true, `bob to catch up\n${bob.log.slice(-2000)}`, 40_000)
    for (const [name, bytes] of files) expect(sha(await bob.onDisk('cat', join(b, name)))).toBe(sha(bytes))

    // The share is bob's to choose: on a 20 MiB disk holding 9 MiB, at 50% a fourth file of 3 MiB waits; at 1% it comes.
    await bob.onDisk('mount', '-o', 'remount,size=20m', disk)
    expect(await bob.ok('config', 'min-free', '50%')).toMatch(/min-free\s+50% of each disk kept free/)
    expect((await bob.cli('config', 'min-free', '80')).stderr).toMatch(/0 to 50/)
    expect((await bob.cli('config', 'min-free', 'lots')).stderr).toMatch(/is not a share of the disk: give a percentage/)
    const four = randomBytes(3 * MiB)
    await writeFile(join(a, 'four.bin'), four)
    await waitFor(async () => (await syncStatus(bob)).folders.find(f => f.id === 'team')?.pullProblems.some(p => p.path === 'four.bin' && /\(50% of the disk\) kept free/.test(p.message)) === true, `four.bin to wait for room\n${bob.log.slice(-2000)}`, 40_000)
    expect(await bob.ok('config', 'min-free', '1')).toMatch(/min-free\s+1% of each disk/)
    await bob.ok('folder', 'rescan', 'team')
    await waitFor(async () => (await syncStatus(bob)).folders.find(f => f.id === 'team')?.inSync === true, `bob to take four.bin\n${bob.log.slice(-2000)}`, 40_000)
    expect(sha(await bob.onDisk('cat', join(b, 'four.bin')))).toBe(sha(four))
  })
})
