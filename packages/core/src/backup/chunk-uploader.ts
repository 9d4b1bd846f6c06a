import { chunkIdHex } from '../chunking/chunk-id.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import type { ChunkStore } from '../store/chunk-store.ts'
import type { BlobSource } from './tree.ts'

/**
 * Where a backup goes: the team server's repository (remote-repository.ts), or a chunk store
 * directly (tests, tools). The walker asks which blobs it lacks, in batches, and sends only those.
 */
export interface BackupTarget {
  /** For each hash, in order: true when the repository does not have it. */
  lacks(hashes: readonly Uint8Array[]): Promise<boolean[]>
  /**
   * Resolves, once stored, with the bytes it sent for the blob (fewer than the blob's when it
   * went compressed). Must not keep `bytes` once it has resolved: the uploader frees them then.
   */
  put(hash: Uint8Array, bytes: Uint8Array): Promise<number>
}

/** A chunk store as a backup target and a blob source (global dedupe: it is the same store). */
export function storeRepository (store: ChunkStore): BackupTarget & BlobSource {
  return {
    lacks: async hashes => (await store.has(hashes)).map(has => !has),
    put: async (hash, bytes) => { await store.put(hash, bytes); return bytes.byteLength },
    get: async hash => await store.get(hash)
  }
}

/** Hashes asked about at once (the protocol's limit too). */
export const LACKS_BATCH = 1024
const BATCH_BYTES = 8 * 1024 * 1024
/**
 * Batches sent and not yet answered. The server answers a put once its bytes are fsynced:
 * with one batch out, it sat idle while the agent asked about and sent the next one, and the
 * agent while the server wrote (the first backup ran at half the speed of the disk and link).
 */
const BATCHES_IN_FLIGHT = 4

/**
 * Collects blobs as the walker makes them, asks the target which it lacks a batch at a time,
 * and sends those; up to BATCHES_IN_FLIGHT batches are out while the next fills, so reading,
 * sending and the server's writing overlap with a bounded amount in memory. A blob asked
 * about or sent once in a run is not asked again. Blobs added are the uploader's: their
 * memory is freed once their batch is settled (releaseBytes).
 */
export class ChunkUploader {
  private readonly target: BackupTarget
  private pending: Array<{ hash: Uint8Array, bytes: Uint8Array }> = []
  private pendingBytes = 0
  private readonly seen = new Set<string>()
  private readonly inFlight = new Set<Promise<void>>()
  private failure: { error: unknown } | undefined
  /** Blobs the target lacked and was sent, and the bytes that took (compressed ones count as sent). */
  sentChunks = 0
  sentBytes = 0

  constructor (target: BackupTarget) {
    this.target = target
  }

  /** Hands the blob over: the caller must not read `bytes` afterwards. */
  async add (hash: Uint8Array, bytes: Uint8Array): Promise<void> {
    const key = chunkIdHex(hash)
    if (this.seen.has(key)) { releaseBytes(bytes); return }
    this.seen.add(key)
    this.pending.push({ hash, bytes })
    this.pendingBytes += bytes.byteLength
    if (this.pending.length >= LACKS_BATCH || this.pendingBytes >= BATCH_BYTES) await this.flush()
  }

  /** Sends what is pending; resolves once everything added so far is in the repository. */
  async finish (): Promise<void> {
    await this.flush()
    await Promise.all(this.inFlight)
    this.throwIfFailed()
  }

  private async flush (): Promise<void> {
    const batch = this.pending
    this.pending = []
    this.pendingBytes = 0
    // Bounded: each wait ends when one of at most BATCHES_IN_FLIGHT sends settles.
    while (this.inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(this.inFlight)
    // A failure of an earlier batch is thrown here (or by finish).
    this.throwIfFailed()
    if (batch.length === 0) return
    const sending: Promise<void> = this.send(batch)
      .catch((error: unknown) => { this.failure ??= { error } })
      .finally(() => { this.inFlight.delete(sending) })
    this.inFlight.add(sending)
  }

  private throwIfFailed (): void {
    if (this.failure !== undefined) throw this.failure.error
  }

  private async send (batch: Array<{ hash: Uint8Array, bytes: Uint8Array }>): Promise<void> {
    // Bytes nothing uses any more: the target has them, or was sent them and said it stored
    // them (the answer comes after the last byte left). A put that failed may still be queued
    // on its way out, so its bytes are left to the garbage collector.
    const done: Uint8Array[] = []
    try {
      const lacks = await this.target.lacks(batch.map(b => b.hash))
      const missing: typeof batch = []
      for (const [i, b] of batch.entries()) {
        if (lacks[i] === true) missing.push(b)
        else done.push(b.bytes)
      }
      await Promise.all(missing.map(async b => {
        const sent = await this.target.put(b.hash, b.bytes)
        this.sentBytes += sent
        this.sentChunks++
        done.push(b.bytes)
      }))
    } finally {
      for (const bytes of done) releaseBytes(bytes)
    }
  }
}
