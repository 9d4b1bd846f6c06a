import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { invite, Lab, waitFor } from './support/agents.ts'
import { syncStatus, untilSame } from './support/shared-folder.ts'

describe('a folder shared with a user', () => {
  const lab = new Lab()
  let root: string

  afterAll(async () => {
    await lab.stopAll()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('reaches every device of that user, including one enrolled later, and no one else', async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-user-members-'))
    const [alice, bob, carol] = await lab.connected('alice', 'bob', 'carol')
    const aliceDir = join(root, 'alice-team')
    await mkdir(aliceDir)
    await writeFile(join(aliceDir, 'plan.txt'), 'for all of bob\'s devices')
    await alice!.ok('folder', 'add', aliceDir, '--id', 'team')
    const out = await alice!.ok('folder', 'share', 'team', '--user', 'bob@example.com', '--role', 'editor')
    expect(out).toContain('every device of bob@example.com')

    await waitFor(async () => (await syncStatus(bob!)).offers.some(o => o.folder === 'team' && o.role === 'editor'), 'the offer to reach bob')
    const bobDir = join(root, 'bob-team')
    await mkdir(bobDir)
    await bob!.ok('folder', 'add', bobDir, '--id', 'team')
    await untilSame([aliceDir, bobDir], [alice!, bob!])

    // Bob's second device, enrolled after the share, is a member without another share.
    const laptop = await lab.device('bob-laptop')
    await laptop.ok('enroll', await invite(alice!, 'bob@example.com'), '--name', 'bob-laptop', '--listen', '/ip4/127.0.0.1/tcp/0')
    await laptop.start()
    await waitFor(async () => (await syncStatus(laptop)).offers.some(o => o.folder === 'team'), 'the offer to reach bob\'s second device')
    const laptopDir = join(root, 'laptop-team')
    await mkdir(laptopDir)
    await laptop.ok('folder', 'add', laptopDir, '--id', 'team')
    await untilSame([aliceDir, laptopDir], [alice!, laptop])
    // The laptop is an editor through its user: its change is accepted by the others.
    await writeFile(join(laptopDir, 'from-laptop.txt'), 'edited on the laptop')
    await untilSame([aliceDir, bobDir, laptopDir], [alice!, bob!, laptop])

    // Carol, another user, is offered nothing.
    expect((await syncStatus(carol!)).offers.some(o => o.folder === 'team')).toBe(false)
    expect((await syncStatus(alice!)).folders.find(f => f.id === 'team')).toMatchObject({ users: [{ user: 'bob@example.com', role: 'editor' }] })
  })
})
