import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { shareFolder, syncStatus, untilSame } from './support/shared-folder.ts'
import { describeTree } from './support/trees.ts'
import type { Device } from './support/agents.ts'

// Three devices share a folder. Changes travel without anyone asking for a rescan (the
// watcher), from any member to all the others; and a folder whose contents vanish at once
// (moved away, unmounted) deletes nothing anywhere.
describe('a folder shared by three devices', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let carol: Device
  let a: string
  let b: string
  let c: string
  const all = (): string[] => [a, b, c]
  const devices = (): Device[] => [alice, bob, carol]

  beforeAll(async () => {
    ;[alice, bob, carol] = await lab.connected('alice', 'bob', 'carol') as [Device, Device, Device]
    a = join(alice.home, '..', 'alice-project')
    await mkdir(join(a, 'src'), { recursive: true })
    for (let i = 0; i < 40; i++) await writeFile(join(a, 'src', `module${i}.ts`), `export const n = ${i}\n`)
    ;[b, c] = await shareFolder(alice, a, 'project', [{ device: bob }, { device: carol }]) as [string, string]
    await untilSame(all(), devices(), 60_000)
  }, 120_000)
  afterAll(async () => { await lab.stopAll() })

  it('a change on any device reaches the two others, found by the watcher', async () => {
    await writeFile(join(c, 'src', 'module7.ts'), 'export const n = 700\n')
    await writeFile(join(b, 'README.md'), '# project\n')
    await untilSame(all(), devices())
    expect(await readFile(join(a, 'src', 'module7.ts'), 'utf8')).toBe('export const n = 700\n')
    expect(await readFile(join(c, 'README.md'), 'utf8')).toBe('# project\n')
    await waitFor(async () => (await syncStatus(carol)).folders[0]?.inSync === true, 'carol to say in sync')
  })

  it('a folder whose contents were moved away deletes nothing on the others and waits for its user', async () => {
    const before = await describeTree(a)
    const away = join(bob.home, '..', 'moved-away')
    await mkdir(away)
    for (const name of await readdir(b)) await rename(join(b, name), join(away, name))
    await waitFor(async () => (await syncStatus(bob)).folders[0]?.state === 'needs-confirmation', 'bob\'s folder to wait for confirmation')
    // Give a wrong deletion every chance to travel before looking.
    await new Promise(resolve => setTimeout(resolve, 2000))
    expect(await describeTree(a)).toEqual(before)
    expect(await describeTree(c)).toEqual(before)
    expect(await bob.ok('status')).toMatch(/missing or not mounted/)

    // Putting the files back ends the wait, and the folder is in step again.
    for (const name of await readdir(away)) await rename(join(away, name), join(b, name))
    await bob.ok('folder', 'rescan', 'project')
    await untilSame(all(), devices())
  })
})
