import { chunkIdHex } from '../chunking/chunk-id.ts'
import type { ChunkStore } from '../store/chunk-store.ts'
import type { BlobSource } from './tree.ts'

/**
 * Where a backup goes: the team server's repository (remote-repository.ts), or a chunk store
 * directly (tests, tools). The walker asks which blobs it lacks, in batches, and sends only those.
 */
export interface BackupTarget {
  /** For each hash, in order: true when the repository does not have it. */
  lacks(hashes: readonly Uint8Array[]): Promise<boolean[]>
  put(hash: Uint8Array, bytes: Uint8Array): Promise<void>
}

/** A chunk store as a backup target and a blob source (global dedupe: it is the same store). */
export function storeRepository (store: ChunkStore): BackupTarget & BlobSource {
  return {
    lacks: async hashes => (await store.has(hashes)).map(has => !has),
    put: async (hash, bytes) => { await store.put(hash, bytes) },
    get: async hash => await store.get(hash)
  }
}

/** Hashes asked about at once (the protocol's limit too). */
export const LACKS_BATCH = 1024
const BATCH_BYTES = 16 * 1024 * 1024

/**
 * Collects blobs as the walker makes them, asks the target which it lacks a batch at a time,
 * and sends those; one batch is in flight while the next fills, so reading and sending overlap
 * with at most two batches in memory. A blob asked about or sent once in a run is not asked again.
 */
export class ChunkUploader {
  private readonly target: BackupTarget
  private pending: Array<{ hash: Uint8Array, bytes: Uint8Array }> = []
  private pendingBytes = 0
  private readonly seen = new Set<string>()
  private inFlight: Promise<void> = Promise.resolve()
  /** Blobs and bytes the target lacked and was sent. */
  sentChunks = 0
  sentBytes = 0

  constructor (target: BackupTarget) {
    this.target = target
  }

  async add (hash: Uint8Array, bytes: Uint8Array): Promise<void> {
    const key = chunkIdHex(hash)
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.pending.push({ hash, bytes })
    this.pendingBytes += bytes.byteLength
    if (this.pending.length >= LACKS_BATCH || this.pendingBytes >= BATCH_BYTES) await this.flush()
  }

  /** Sends what is pending; resolves once everything added so far is in the repository. */
  async finish (): Promise<void> {
    await this.flush()
    await this.inFlight
  }

  private async flush (): Promise<void> {
    const batch = this.pending
    this.pending = []
    this.pendingBytes = 0
    // The batch before must be done first: a failure there is thrown here.
    await this.inFlight
    if (batch.length === 0) return
    const sending = this.send(batch)
    sending.catch(() => {}) // thrown by the next flush or finish
    this.inFlight = sending
  }

  private async send (batch: Array<{ hash: Uint8Array, bytes: Uint8Array }>): Promise<void> {
    const lacks = await this.target.lacks(batch.map(b => b.hash))
    const missing = batch.filter((_, i) => lacks[i] === true)
    await Promise.all(missing.map(async b => { await this.target.put(b.hash, b.bytes) }))
    this.sentChunks += missing.length
    this.sentBytes += missing.reduce((n, b) => n + b.bytes.byteLength, 0)
  }
}
