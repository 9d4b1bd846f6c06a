import { randomBytes } from 'node:crypto'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { shareFolder, syncStatus, untilSame } from './support/shared-folder.ts'
import type { Device } from './support/agents.ts'

const MiB = 1024 * 1024
const SIZE = 200 * MiB

// The receiver is killed (SIGKILL, no chance to clean up) in the middle of a large file.
// After a restart the file completes; the final path never holds a partial file, and the
// chunks already written and verified are not fetched again.
describe('an interrupted transfer', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let a: string

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    a = join(alice.home, '..', 'alice-video')
    await mkdir(a)
    await writeFile(join(a, 'film.mkv'), randomBytes(SIZE))
  }, 60_000)
  afterAll(async () => { await lab.stopAll() })

  it('resumes after kill -9 without a partial file at the final path or refetching verified chunks', async () => {
    const [b] = await shareFolder(alice, a, 'video', [{ device: bob }]) as [string]
    const received = async (): Promise<number> => (await syncStatus(bob)).peers.find(p => p.deviceName === 'alice')?.bytesIn ?? 0
    // The temporary file has its full size from the start (sparse); its allocated blocks say
    // how much has been written. Watched closely: on loopback the whole file takes seconds.
    const written = async (): Promise<number> => {
      const temp = (await readdir(b).catch(() => [])).find(name => name.startsWith('.aerie-tmp-film.mkv'))
      return temp === undefined ? 0 : await stat(join(b, temp)).then(s => s.blocks * 512, () => 0)
    }
    let before = 0
    await waitFor(async () => (before = await written()) > SIZE / 3, 'a third of the file to be written', 60_000, 5)
    const exited = new Promise(resolve => bob.agent!.once('exit', resolve))
    bob.agent!.kill('SIGKILL')
    await exited

    await expect(stat(join(b, 'film.mkv'))).rejects.toThrow(/ENOENT/)
    expect((await readdir(b)).some(name => name.startsWith('.aerie-tmp-film.mkv'))).toBe(true)

    await bob.start()
    await untilSame([a, b], [alice, bob], 90_000)
    // The restarted agent's counter starts at zero: it fetched what was missing, not the whole file.
    expect(await received()).toBeLessThan(SIZE - before / 2)
    expect((await readdir(b)).some(name => name.startsWith('.aerie-tmp-'))).toBe(false)
  })
})
