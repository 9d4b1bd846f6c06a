import { isChunk } from '../chunking/index.ts'
import { readAt } from './local-chunks.ts'
import { ByteBudget } from '../util/byte-budget.ts'
import type { PullerInit } from './puller.ts'

/** Where chunks come from besides this pull: the device's own files, then the peers. */
type ChunkSources = Pick<PullerInit, 'localChunks' | 'fetchChunk'>

/** Chunk bytes held in memory at once across all files of a pull (fetched, not yet written). */
const BYTES_IN_FLIGHT = 32 * 1024 * 1024

/**
 * Where the chunks of one pull come from, so that duplicate data crosses the network once:
 * a chunk being fetched is waited for, not fetched again, and a chunk written earlier in this
 * pull (not yet in the index) is copied from where it was written. Then this device's files,
 * then the peers.
 */
export class PassChunks {
  private readonly init: ChunkSources
  private readonly inFlight = new Map<string, { fetching: Promise<{ bytes: Uint8Array, local: boolean }>, shared: boolean }>()
  /** hash -> where this pull wrote it. */
  private readonly written = new Map<string, { file: { path: string }, offset: number }>()
  /** One shared name per file being built, so its chunks follow it when it is renamed into place. */
  private readonly files = new Map<string, { path: string }>()
  private readonly budget = new ByteBudget(BYTES_IN_FLIGHT)

  constructor (init: ChunkSources) {
    this.init = init
  }

  /** Room for `size` bytes in memory (all chunks of one write at once, so none waits holding part of it). */
  async reserve (size: number): Promise<void> {
    await this.budget.take(size)
  }

  /**
   * The chunk's bytes. `own` says the caller alone holds them (nobody waited for the same fetch),
   * so it may free them once written (releaseBytes); bytes shared with a waiter never are.
   */
  async get (hash: Uint8Array, size: number, device: string): Promise<{ bytes: Uint8Array, local: boolean, own: boolean }> {
    const key = Buffer.from(hash).toString('hex')
    const pending = this.inFlight.get(key)
    if (pending !== undefined) {
      pending.shared = true
      return { ...await pending.fetching, local: true, own: false }
    }
    const entry = { fetching: this.find(key, hash, size, device), shared: false }
    this.inFlight.set(key, entry)
    try {
      return { ...await entry.fetching, own: !entry.shared }
    } finally {
      this.inFlight.delete(key)
    }
  }

  /** Gives back what `reserve` took, once the bytes are written (or failed). */
  release (size: number): void {
    this.budget.give(size)
  }

  wrote (hash: Uint8Array, path: string, offset: number): void {
    let file = this.files.get(path)
    if (file === undefined) {
      file = { path }
      this.files.set(path, file)
    }
    this.written.set(Buffer.from(hash).toString('hex'), { file, offset })
  }

  moved (from: string, to: string): void {
    const file = this.files.get(from)
    if (file === undefined) return
    file.path = to
    this.files.delete(from)
  }

  private async find (key: string, hash: Uint8Array, size: number, device: string): Promise<{ bytes: Uint8Array, local: boolean }> {
    const place = this.written.get(key)
    if (place !== undefined) {
      const bytes = await readAt(place.file.path, place.offset, size)
      if (bytes !== undefined && isChunk(bytes, hash)) return { bytes, local: true }
    }
    const local = await this.init.localChunks.read(hash, size)
    if (local !== undefined) return { bytes: local, local: true }
    return { bytes: await this.init.fetchChunk(hash, size, device), local: false }
  }
}
