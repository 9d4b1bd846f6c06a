import { describe, expect, it } from 'vitest'
import { DiskFullError } from '../../src/errors.ts'
import { DiskRoom, KEEP_FREE_SHARE } from '../../src/util/disk-room.ts'

const MiB = 2 ** 20

describe('the room a pull has on its disk', () => {
  it('gives what is free less the share kept free, counting the files being built and those built since it looked', async () => {
    expect(KEEP_FREE_SHARE).toBe(0.01)
    let clock = 0
    let looks = 0
    // A 1000 MiB disk with 30 MiB free: 10 MiB are kept, so 20 MiB of room.
    const disk = { bsize: 4096, blocks: 1000 * MiB / 4096, bavail: 30 * MiB / 4096 }
    const room = new DiskRoom({ path: '/data/team', now: () => clock, statfs: async () => { looks++; return { ...disk } } })
    const first = await room.take(12 * MiB)
    await room.take(8 * MiB)
    const refused = room.take(1, 'free some space')
    await expect(refused).rejects.toBeInstanceOf(DiskFullError)
    await expect(refused).rejects.toThrow('not enough free space on the disk of /data/team: 1 B needed, 10.0 MiB free and 10.0 MiB (1% of the disk) kept free; free some space')
    // A built file's bytes count until a look shows them on the disk.
    first()
    first()
    await expect(room.take(1)).rejects.toThrow(/10\.0 MiB free/)
    expect(looks).toBe(1)

    // A second later it looks again: the 12 MiB are on the disk, the 8 still count whole.
    clock = 1000
    disk.bavail = 16 * MiB / 4096
    await expect(room.take(1)).rejects.toThrow(/8\.0 MiB free/)
    // The user freed space meanwhile.
    clock = 2000
    disk.bavail = 50 * MiB / 4096
    await room.take(32 * MiB)
    expect(looks).toBe(3)
    await expect(room.take(1)).rejects.toThrow(/10\.0 MiB free/)
  })

  it('looks again before it refuses: space freed a moment ago counts', async () => {
    let clock = 0
    const disk = { bsize: 1, blocks: 1000, bavail: 20 }
    const room = new DiskRoom({ path: '/d', now: () => clock, statfs: async () => ({ ...disk }) })
    await expect(room.take(15)).rejects.toThrow(/15 B needed, 20 B free and 10 B/)
    disk.bavail = 500
    clock = 10
    await room.take(15)
  })

  it('keeps the share it is given', async () => {
    const room = new DiskRoom({ path: '/data', keepFree: 0.5, statfs: async () => ({ bsize: 1, blocks: 100, bavail: 60 }) })
    await room.take(10)
    await expect(room.take(1)).rejects.toThrow(/50% of the disk/)
  })
})
