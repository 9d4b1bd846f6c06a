import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'
import { shareFolder, syncStatus, untilSame } from './support/shared-folder.ts'
import type { Device } from './support/agents.ts'

const MiB = 1024 * 1024

// Data a device already has is not sent again: duplicate files cross the wire once, and an
// insertion near the start of a big file moves only the chunks around it. Asserted on the
// agents' own byte counters, not on time.
describe('dedupe on the wire', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let a: string
  let b: string
  const bytesFromAlice = async (): Promise<number> => (await syncStatus(bob)).peers.find(p => p.deviceName === 'alice')?.bytesIn ?? 0

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    a = join(alice.home, '..', 'alice-media')
    await mkdir(join(a, 'originals'), { recursive: true })
    await mkdir(join(a, 'copies'))
  }, 60_000)
  afterAll(async () => { await lab.stopAll() })

  it('sends each unique chunk once when half the files duplicate the other half', async () => {
    for (let i = 0; i < 8; i++) {
      await writeFile(join(a, 'originals', `clip${i}.bin`), randomBytes(2 * MiB))
      await copyFile(join(a, 'originals', `clip${i}.bin`), join(a, 'copies', `clip${i}-copy.bin`))
    }
    ;[b] = await shareFolder(alice, a, 'media', [{ device: bob }]) as [string]
    await untilSame([a, b], [alice, bob])
    const received = await bytesFromAlice()
    const unique = 16 * MiB
    // Index messages and frame headers add a little; a second copy would add 100%.
    expect(received).toBeGreaterThan(unique)
    expect(received).toBeLessThan(unique * 1.05)
  })

  it('moves less than 1 MiB when 10 bytes are inserted at the start of a 100 MiB file', async () => {
    const big = randomBytes(100 * MiB)
    await writeFile(join(a, 'big.bin'), big)
    await alice.ok('folder', 'rescan', 'media')
    await untilSame([a, b], [alice, bob], 60_000)
    const before = await bytesFromAlice()
    await writeFile(join(a, 'big.bin'), Buffer.concat([Buffer.from('0123456789'), big]))
    await alice.ok('folder', 'rescan', 'media')
    await untilSame([a, b], [alice, bob], 60_000)
    expect((await readFile(join(b, 'big.bin'))).subarray(0, 10).toString()).toBe('0123456789')
    expect(await bytesFromAlice() - before).toBeLessThan(1 * MiB)
  })
})
