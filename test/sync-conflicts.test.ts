import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'
import { shareFolder, untilSame } from './support/shared-folder.ts'
import type { Device } from './support/agents.ts'

// Two devices change the same file while they cannot reach each other. Nothing either user
// wrote may be lost: after they reconnect, both contents exist on both devices.
describe('concurrent changes on two offline devices', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let a: string
  let b: string

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    a = join(alice.home, '..', 'alice-plans')
    await mkdir(a)
    await writeFile(join(a, 'plan.txt'), 'the original plan\n')
    await writeFile(join(a, 'budget.txt'), 'the original budget\n')
    ;[b] = await shareFolder(alice, a, 'plans', [{ device: bob }]) as [string]
    await untilSame([a, b], [alice, bob])
  }, 120_000)
  afterAll(async () => { await lab.stopAll() })

  it('keeps both edits of the same file: the older as a sync-conflict copy, on both devices', async () => {
    await bob.stop()
    await writeFile(join(a, 'plan.txt'), 'alice rewrote the plan\n')
    await alice.ok('folder', 'rescan', 'plans')
    // Later, so bob's edit is the newer one and alice's becomes the conflict copy.
    await new Promise(resolve => setTimeout(resolve, 20))
    await writeFile(join(b, 'plan.txt'), 'bob rewrote the plan\n')
    await bob.start()
    await untilSame([a, b], [alice, bob])
    for (const dir of [a, b]) {
      expect(await readFile(join(dir, 'plan.txt'), 'utf8')).toBe('bob rewrote the plan\n')
      const copies = (await readdir(dir)).filter(name => /^plan\.sync-conflict-\d{8}-\d{6}-[a-z2-7]{7}\.txt$/.test(name))
      expect(copies).toHaveLength(1)
      expect(await readFile(join(dir, copies[0]!), 'utf8')).toBe('alice rewrote the plan\n')
    }
  })

  it('a deletion against a concurrent edit keeps the edit', async () => {
    await bob.stop()
    await rm(join(a, 'budget.txt'))
    await alice.ok('folder', 'rescan', 'plans')
    await writeFile(join(b, 'budget.txt'), 'bob raised the budget\n')
    await bob.start()
    await untilSame([a, b], [alice, bob])
    expect(await readFile(join(a, 'budget.txt'), 'utf8')).toBe('bob raised the budget\n')
  })
})
