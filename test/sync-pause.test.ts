import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { shareFolder, syncStatus, untilSame } from './support/shared-folder.ts'

describe('pausing a folder', () => {
  const lab = new Lab()
  let root: string

  afterAll(async () => {
    await lab.stopAll()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('holds what peers change and what changes here until it is resumed, across a restart', async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-pause-'))
    const [alice, bob] = await lab.connected('alice', 'bob')
    const aliceDir = join(root, 'alice')
    await mkdir(aliceDir)
    await writeFile(join(aliceDir, 'first.txt'), 'before the pause')
    const [bobDir] = await shareFolder(alice!, aliceDir, 'team', [{ device: bob! }])
    await untilSame([aliceDir, bobDir!], [alice!, bob!])

    expect(await bob!.ok('folder', 'pause', 'team')).toMatch(/paused/)
    await waitFor(async () => (await syncStatus(bob!)).folders.find(f => f.id === 'team')?.state === 'paused', 'bob\'s folder to be paused')
    // Bob stays paused across a restart of his agent.
    await bob!.stop()
    await bob!.start()
    expect((await syncStatus(bob!)).folders.find(f => f.id === 'team')?.state).toBe('paused')

    await writeFile(join(aliceDir, 'while-paused.txt'), 'from alice')
    await writeFile(join(bobDir!, 'bob-while-paused.txt'), 'from bob')
    // Alice's record reaches Bob's index, but nothing is fetched while paused.
    await waitFor(async () => (await syncStatus(bob!)).folders.find(f => f.id === 'team')!.needFiles > 0, 'alice\'s change to be announced to bob', 20_000)
    expect(await stat(join(bobDir!, 'while-paused.txt')).catch(() => undefined)).toBeUndefined()
    expect((await bob!.cli('folder', 'rescan', 'team')).stderr).toMatch(/paused/)
    expect(await stat(join(aliceDir, 'bob-while-paused.txt')).catch(() => undefined)).toBeUndefined()

    await bob!.ok('folder', 'resume', 'team')
    await untilSame([aliceDir, bobDir!], [alice!, bob!])
    expect(await readFile(join(aliceDir, 'bob-while-paused.txt'), 'utf8')).toBe('from bob')
    expect((await syncStatus(bob!)).folders.find(f => f.id === 'team')?.state).not.toBe('paused')
  })
})
