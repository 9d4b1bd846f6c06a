import { statfs } from 'node:fs/promises'
import { DiskFullError } from '../errors.ts'
import { formatBytes } from './format-bytes.ts'

/**
 * What Aerie keeps free on a disk it writes to (Syncthing's minDiskFree): a pull builds a file,
 * and a chunk store writes a group, only when this share of the disk is still free after it. A
 * disk filled to the last byte would make the user's other programs (or the server's own
 * databases and audit log) fail to save.
 */
export const KEEP_FREE_SHARE = 0.01

/** How long a look at the file system's free space is trusted (other programs write too). */
const LOOK_AGAIN_MS = 1000

export interface DiskRoomInit {
  /** A path on the disk (a folder's root, a store's directory, a restore's target). */
  path: string
  /** The share of the disk kept free; KEEP_FREE_SHARE unless given. */
  keepFree?: number
  statfs?(path: string): Promise<{ bsize: number, blocks: number, bavail: number }>
  now?(): number
}

/**
 * The room a writer has on its disk: `take` the bytes of a file (or a group of chunks) before
 * writing it, and release them once it is written (or given up). Free space is read from the
 * file system after LOOK_AGAIN_MS, and before any refusal. Files being built count whole until
 * released (the part they have written is then counted twice: a file may wait that would just
 * have fitted, never the reverse); released ones count until the next look shows their bytes.
 */
export class DiskRoom {
  private readonly init: DiskRoomInit
  private free = 0
  private total = 0
  private lookedAt = -Infinity
  private building = 0
  private builtSinceLook = 0

  constructor (init: DiskRoomInit) {
    this.init = init
  }

  /**
   * Takes `bytes` of the room, or throws DiskFullError saying how much is free and kept, ending
   * with `advice` (what to do, and what happens then); returns the release.
   */
  async take (bytes: number, advice?: string): Promise<() => void> {
    const now = this.init.now?.() ?? performance.now()
    if (now - this.lookedAt >= LOOK_AGAIN_MS) await this.look(now)
    // A refusal is always from a fresh look: space freed since the last one counts.
    if (bytes > this.room() && this.lookedAt !== now) await this.look(now)
    if (bytes > this.room()) {
      const share = this.init.keepFree ?? KEEP_FREE_SHARE
      throw new DiskFullError(`not enough free space on the disk of ${this.init.path}: ${formatBytes(bytes)} needed, ${formatBytes(this.unused())} ` +
        `free and ${formatBytes(this.kept())} (${Math.round(share * 100)}% of the disk) kept free${advice === undefined ? '' : `; ${advice}`}`)
    }
    this.building += bytes
    let released = false
    return () => {
      if (released) return
      released = true
      this.building -= bytes
      this.builtSinceLook += bytes
    }
  }

  /** The disk as it is now: free and total bytes, and what this room keeps free of it. */
  async space (): Promise<{ free: number, total: number, kept: number }> {
    await this.look(this.init.now?.() ?? performance.now())
    return { free: this.free, total: this.total, kept: this.kept() }
  }

  private async look (now: number): Promise<void> {
    const disk = await (this.init.statfs ?? statfs)(this.init.path)
    this.free = disk.bavail * disk.bsize
    this.total = disk.blocks * disk.bsize
    this.lookedAt = now
    this.builtSinceLook = 0
  }

  /** Free as far as this room knows: what the last look saw, less what was written or begun since. */
  private unused (): number {
    return Math.max(0, this.free - this.building - this.builtSinceLook)
  }

  private kept (): number {
    return Math.ceil(this.total * (this.init.keepFree ?? KEEP_FREE_SHARE))
  }

  private room (): number {
    return this.unused() - this.kept()
  }
}
