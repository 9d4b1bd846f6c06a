/**
 * A content-addressed chunk store: chunk bytes by their SHA-256 (chunking/chunk-id.ts).
 *
 * The team server keeps every folder's central copy (and, later, every backup) in one store,
 * so a chunk that many files, folders and devices share is stored once. This interface is all
 * its callers see: the embedded store (pack files on local disk, pack-store.ts) implements it
 * today, an S3-compatible one can later, and both pass the same compliance tests
 * (test/store/chunk-store-compliance.ts).
 */
export interface VerifyOptions {
  signal?: AbortSignal
  onProgress?(done: number, total: number): void
  pace?(bytes: number): Promise<void>
}

export interface ChunkStore {
  /**
   * Whether each chunk is stored, in order. A chunk found damaged (by get or verify) counts as
   * not stored, so that callers fetch it again; putting it then replaces the damaged copy.
   */
  has(hashes: readonly Uint8Array[], options?: HasOptions): Promise<boolean[]>
  /**
   * Stores a chunk. Its bytes are checked against `hash` first (unless the caller just did: `verified`): a chunk that does not hash to
   * its name is refused (InvalidInputError) and nothing is written. Storing a chunk that is
   * already there costs nothing. Resolves once the chunk is durable (on disk and indexed).
   */
  put(hash: Uint8Array, bytes: Uint8Array, options?: PutOptions): Promise<void>
  /**
   * A chunk's bytes, verified against its hash (unless the caller verifies them itself:
   * `callerVerifies`); undefined when it is not stored. Damage throws StoreDamagedError.
   */
  get(hash: Uint8Array, options?: GetOptions): Promise<Uint8Array | undefined>
  /**
   * A chunk as the store keeps it, for a caller that passes it on to one who unpacks and
   * verifies it (a restoring device): compressed (chunk-compression.ts) when the store keeps it
   * so, else its bytes. Checked as get with `callerVerifies` checks; undefined when not stored.
   */
  getStored(hash: Uint8Array): Promise<StoredChunkForm | undefined>
  /** Chunks stored, their plain bytes, and the bytes they take on disk (with packing, compression and encryption). */
  stats(): Promise<ChunkStoreStats>
  /**
   * Reads back every stored chunk and reports those that no longer verify (scrub); they then
   * count as not stored (see has). Progress is in chunks: `done` of `total`, from 0 and ending
   * at total. `pace` is awaited with the bytes of each read before the next (a rate limit).
   * Rejects with the signal's reason when aborted.
   */
  verify(options?: VerifyOptions): Promise<DamagedChunk[]>
  /**
   * Garbage collection: forgets the chunks nobody needs and gives their space back. `mark` is
   * called once the store has started counting what it must keep, and resolves to the live set
   * (every chunk a snapshot or the central copy needs). A chunk is swept only when it is not
   * live, was stored before the newest fence at least `graceMs` old, and was not put, found
   * present (has) or read (get) within `graceMs`: a backup or pull that confirmed a chunk
   * keeps it. Then packs mostly dead are copied (verified, still sealed) into new ones and
   * deleted. One collection at a time; a second call waits for the first.
   */
  collect(mark: () => Promise<(hash: Uint8Array) => boolean>, options?: CollectOptions): Promise<CollectResult>
  close(): Promise<void>
}

export interface HasOptions {
  /**
   * false: only a look (a scrub's), not a confirmation that a backup or pull relies on; it does
   * not spare the chunk from collection (see collect). True by default.
   */
  confirms?: boolean
}

export interface CollectOptions {
  /** How long a chunk stored, confirmed or read stays safe from sweeping; 24 h by default. */
  graceMs?: number
  /** Packs whose live bytes are below this fraction are compacted; 0.5 by default. */
  compactBelow?: number
  /** Called right after the sweep is recorded (callers release what they held for it). */
  onSwept?(): void
  /** Called after each compaction step; a throw stops the collection there (tests of crash safety use it). */
  onStep?(step: 'copied' | 'relocated', pack: string): void
  signal?: AbortSignal
}

export interface CollectResult {
  /** Chunks the store held when the sweep ran. */
  chunks: number
  /** Chunks forgotten, and their plain bytes. */
  swept: number
  sweptBytes: number
  /** Chunks not live but kept: stored, confirmed or read within the grace period. */
  spared: number
  /** Packs copied into new ones, and packs deleted. */
  compacted: number
  deletedPacks: number
  /** Bytes the store occupies less than before (pack files removed minus pack bytes written). */
  freedBytes: number
  /** Why nothing was swept, when that is so. */
  skipped?: string
}

export interface PutOptions {
  /** The caller has just checked that the bytes hash to `hash` (as the puller does on receipt): not hashed again. */
  verified?: boolean
  /**
   * The chunk as compressIfItPays (chunk-compression.ts) made it, when the caller has it (a
   * device sent it so, and the caller decompressed it into `bytes`): kept as it is instead of
   * compressing again. Ignored unless shorter than the chunk.
   */
  compressed?: Uint8Array
  /** false: the caller knows compression does not pay (a device that compresses sent it plain); not tried again. */
  compress?: boolean
}

export interface GetOptions {
  /**
   * The caller checks the bytes against the hash itself (a device restoring a backup hashes
   * every chunk it is sent): the store does not hash them too. It still checks what it can
   * without a hash: a store that seals its chunks bound to their hash (pack-store.ts) still
   * finds bytes changed on disk and an index row pointing at another chunk.
   */
  callerVerifies?: boolean
}

export interface StoredChunkForm {
  bytes: Uint8Array
  /** The chunk's own size (`bytes` is shorter when compressed). */
  size: number
  compressed: boolean
}

export interface ChunkStoreStats {
  chunks: number
  /** Sum of the plain sizes of the stored chunks: the unique bytes. */
  uniqueBytes: number
  /** Bytes the store occupies (pack files, without the index): less than uniqueBytes when chunks compress. */
  storedBytes: number
}

export interface DamagedChunk {
  hash: Uint8Array
  /** Where it was and what is wrong, for the scrub report. */
  where: string
  reason: string
}
