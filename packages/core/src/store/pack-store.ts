import { mkdir, open, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { chunkIdHex, isChunk } from '../chunking/chunk-id.ts'
import { DiskFullError, InvalidInputError, InvalidKeyError, NotConfiguredError, StoreDamagedError, StoreFullError } from '../errors.ts'
import { DiskRoom } from '../util/disk-room.ts'
import type { DiskRoomInit } from '../util/disk-room.ts'
import { OpenFiles } from '../util/open-files.ts'
import { QuickReads, readFully } from '../util/read-fully.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import { compressIfItPays, decompress } from './chunk-compression.ts'
import { assertDataKey, openBlob, sealBlob, sealParts } from './data-key.ts'
import { createPack, ENTRY_HEADER_BYTES, entryHeader, listPackFiles, MAX_CHUNK_BYTES, newPackName, PACK_MAGIC, packLabel, reopenPack } from './pack-files.ts'
import { syncDirectory, writeAll } from '../util/durable-io.ts'
import { INDEX_FILE, openPackIndex, REBUILD_HINT } from './pack-index.ts'
import type { KeyObject } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { ChunkStore, CollectOptions, CollectResult, DamagedChunk, GetOptions, VerifyOptions } from './chunk-store.ts'
import type { PackAppender } from './pack-files.ts'
import type { ChunkPlace, PackIndex, PackRecord } from './pack-index.ts'

export interface PackStoreOptions {
  /** The store's directory: `chunks.db` and `packs/`. Created if needed. */
  dir: string
  /** The 32-byte data key (data-key.ts). A store opened with another key than it was made with is refused. */
  dataKey: KeyObject
  /** A pack is closed for appends once it would grow past this; 64 MiB by default. */
  packSize?: number
  /** Pack files kept open for reading; 64 by default. */
  openPacks?: number
  /**
   * Where a group of puts is written only when this share of the disk stays free after it
   * (KEEP_FREE_SHARE, 1%, unless given; 0: none): the databases beside the store (the team
   * server's metadata and audit log) can still write. Compaction, which frees space, may use it.
   */
  keepFree?: number
  /** The disk's free space (fs.statfs unless given; tests fake a small disk). */
  statfs?: DiskRoomInit['statfs']
}

const DEFAULT_PACK_SIZE = 64 * 1024 * 1024
const VERIFY_BLOCK = 4 * 1024 * 1024
/**
 * A group commit writes at most this much, so that, when callers keep more than this in
 * flight, the next batch is sealed while one is written and written while the one before it is
 * fsynced (8 MiB: 20–70 ms of writing here, 5–30 ms of fsync).
 */
const BATCH_BYTES = 8 * 1024 * 1024
const KEY_CHECK = 'key-check'
/** node:sqlite's `errcode` for "database or disk is full". */
const SQLITE_FULL = 13
const DEFAULT_GRACE_MS = 24 * 60 * 60 * 1000
const DEFAULT_COMPACT_BELOW = 0.5
/** Touches remembered for the grace period; past this a collection sweeps nothing until they age out. */
const MAX_TOUCHED = 2_000_000
const KEY_CHECK_AAD = 'aerie chunk store key check'

interface Pending {
  hash: Uint8Array
  /** Nonce, ciphertext and tag (sealParts). */
  sealed: Buffer[]
  /** Their bytes together. */
  length: number
  size: number
  /** It is indexed but was found damaged: this copy replaces it. */
  replaces: boolean
  done: PromiseWithResolvers<void>
}

/** A batch written to its packs, not yet fsynced or indexed. */
interface Written {
  batch: Pending[]
  /** The packs it wrote to (to fsync), and where in each its bytes begin. */
  starts: Map<PackAppender, number>
  newPacks: PackRecord[]
  places: Array<ChunkPlace & { replaces: boolean }>
  /** Set when a write failed. */
  failure?: { err: unknown }
}

/**
 * The embedded chunk store: chunks sealed under the data key (AES-256-GCM, the hash as
 * associated data, so a chunk cannot be passed off as another) and appended to ~64 MiB pack
 * files; a node:sqlite index says where each lies. A chunk that compresses well is kept
 * compressed (chunk-compression.ts).
 *
 * Never lose data: a chunk is indexed only after its pack bytes are fsynced, and put()
 * resolves only then. Puts that arrive together share one write, one fsync and one index
 * transaction (group commit), up to 8 MiB: keep more than that in flight (e.g. 256 puts of
 * 64 KiB chunks) and sealing, writing and fsyncing overlap. A chunk found damaged (by get or verify) counts as not stored,
 * so that it is fetched again; its next put writes a good copy and the index points there.
 * One process at a time: the index is held exclusively while open.
 */
export async function openPackStore (options: PackStoreOptions): Promise<ChunkStore> {
  const { dir, dataKey } = options
  const packSize = options.packSize ?? DEFAULT_PACK_SIZE
  assertDataKey(dataKey)
  await mkdir(join(dir, 'packs'), { recursive: true })
  const indexPath = join(dir, INDEX_FILE)
  // A new index over old packs would read as an empty store: every chunk lost to its callers.
  if (!await stat(indexPath).then(() => true, () => false)) {
    const found = (await listPackFiles(dir)).length
    if (found > 0) throw new NotConfiguredError(`the chunk store index ${indexPath} is missing, but ${dir}/packs holds ${found} pack ${found === 1 ? 'file' : 'files'}: ${REBUILD_HINT}`)
  }
  const index = openPackIndex(indexPath)
  // Packs are never renamed or rewritten in place, so a kept handle never goes stale.
  const readers = new OpenFiles({ max: options.openPacks ?? 64 })
  // A restore's chunks come mostly from packs still in the page cache: read on the event loop.
  const quickReads = new QuickReads()
  let appender: PackAppender | undefined
  try {
    // packs/ and chunks.db must stay where they are after a power cut.
    await syncDirectory(dir)
    checkKey(index, dataKey, dir)
    const last = index.packs().at(-1)
    if (last !== undefined && last.size < packSize) appender = await reopenPack(dir, last)
  } catch (err) {
    index.close()
    throw err
  }

  const room = new DiskRoom({ path: dir, ...(options.keepFree === undefined ? {} : { keepFree: options.keepFree }), ...(options.statfs === undefined ? {} : { statfs: options.statfs }) })
  const packs = new Map<number, string>(index.packs().map(p => [p.id, p.name]))
  let nextPackId = (index.packs().at(-1)?.id ?? 0) + 1
  const pending = new Map<string, Promise<void>>()
  const queue: Pending[] = []
  let flushing: Promise<void> | undefined
  /** Packs closed for appends whose files a batch may still have to fsync. */
  let retired: PackAppender[] = []
  let closed = false
  const reading = new Set<Promise<unknown>>()
  const closing = new AbortController()

  // What a collection must spare (see ChunkStore.collect): where the packs ended at each moment
  // (fences: chunks lie in the order they were stored), and chunks confirmed or read lately.
  const openedAt = Date.now()
  const fences: Array<{ time: number, pack: number, at: number }> = []
  const touched = new Map<string, number>()
  let touchOverflowAt = -Infinity
  let collecting: Promise<unknown> = Promise.resolve()
  const fence = (): void => {
    fences.push({ time: Date.now(), pack: appender?.id ?? nextPackId, at: appender?.end ?? 0 })
  }
  fence()
  const touch = (hash: Uint8Array): void => {
    if (touched.size >= MAX_TOUCHED) {
      touched.clear()
      touchOverflowAt = Date.now()
    }
    const id = chunkIdHex(hash)
    touched.delete(id) // re-inserted last: the map stays ordered oldest first
    touched.set(id, Date.now())
  }

  const packPath = (id: number): string => join(dir, packLabel(packs.get(id) ?? '??'))
  const where = (place: ChunkPlace): string => `${packLabel(packs.get(place.pack) ?? '??')} at ${place.at}`
  const checkOpen = (): void => { if (closed) throw new Error('the chunk store is closed') }

  /** Places one batch in the packs and writes it (not yet durable); a failed write is in `failure`. */
  async function write (batch: Pending[]): Promise<Written> {
    const writes = new Map<PackAppender, Buffer[]>()
    const written: Written = { batch, starts: new Map(), newPacks: [], places: [] }
    let release: (() => void) | undefined
    try {
      release = await room.take(batch.reduce((sum, entry) => sum + ENTRY_HEADER_BYTES + entry.length, 0))
      for (const { hash, sealed, length, size, replaces } of batch) {
        const bytes = ENTRY_HEADER_BYTES + length
        if (appender !== undefined && appender.end + bytes > packSize && appender.end > PACK_MAGIC.byteLength) {
          retired.push(appender)
          appender = undefined
        }
        if (appender === undefined) {
          appender = await createPack(dir, nextPackId++, newPackName())
          written.newPacks.push({ id: appender.id, name: appender.name, size: 0 })
          packs.set(appender.id, appender.name)
        }
        let buffers = writes.get(appender)
        if (buffers === undefined) {
          writes.set(appender, buffers = [])
          written.starts.set(appender, appender.end)
        }
        buffers.push(entryHeader(hash, length), ...sealed)
        written.places.push({ hash, pack: appender.id, at: appender.end + ENTRY_HEADER_BYTES, length, size, replaces })
        appender.end += bytes
      }
      for (const [pack, buffers] of writes) await writeAll(pack.file, buffers, written.starts.get(pack)!)
    } catch (err) {
      written.failure = { err: diskError(err) }
    } finally {
      release?.()
      // Written (or given up): nothing reads the sealed copies again.
      for (const entry of batch) for (const part of entry.sealed) releaseBytes(part)
    }
    return written
  }

  /** Makes a written batch durable (fsync), then indexes it; the failure if that fails. */
  async function persist (written: Written): Promise<{ err: unknown } | undefined> {
    try {
      for (const pack of written.starts.keys()) {
        await pack.file.sync()
        for (const newDir of pack.newDirs) await syncDirectory(newDir)
        pack.newDirs = []
      }
      index.record({ packs: written.newPacks, chunks: written.places })
    } catch (err) {
      return { err: diskError(err) }
    }
  }

  /** The queue's head, up to BATCH_BYTES (at least one chunk). */
  function takeBatch (): Pending[] {
    let bytes = 0
    let n = 0
    while (n < queue.length && (n === 0 || bytes + queue[n]!.length <= BATCH_BYTES)) bytes += queue[n++]!.length
    return queue.splice(0, n)
  }

  function settle (batch: Pending[], failure: { err: unknown } | undefined): void {
    for (const entry of batch) {
      if (failure === undefined) entry.done.resolve()
      else entry.done.reject(failure.err)
      pending.delete(chunkIdHex(entry.hash))
    }
  }

  /**
   * Group commits, pipelined: the next batch is written while the one before it is fsynced,
   * and each is indexed only after its own fsync. After a failed write or fsync, what was
   * written may be partly on disk, so appends move to a new pack; and a failed fsync fails the
   * batch written behind it too (they may share a page the kernel gave up on, so that batch's
   * own fsync could succeed without it).
   */
  async function flush (): Promise<void> {
    // One turn of the event loop lets puts issued together join the same batch.
    await new Promise(resolve => setImmediate(resolve))
    let unsynced: Written | undefined
    // Bounded: each turn takes from the queue, which refills only from new puts.
    while (queue.length > 0 || unsynced !== undefined) {
      const batch = queue.length > 0 ? takeBatch() : undefined
      const [synced, written] = await Promise.all([
        unsynced === undefined ? undefined : persist(unsynced),
        batch === undefined ? undefined : write(batch)
      ])
      if (unsynced !== undefined) settle(unsynced.batch, synced)
      const failure = synced ?? written?.failure
      if (written !== undefined && failure !== undefined) settle(written.batch, failure)
      if (failure !== undefined) {
        // Nothing will index what the failed batches wrote: give its space back (a full disk most of all).
        await giveBack([...(synced === undefined ? [] : [unsynced!]), ...(written === undefined ? [] : [written])])
        if (appender !== undefined) {
          retired.push(appender)
          appender = undefined
        }
      }
      unsynced = failure === undefined ? written : undefined
      // Packs closed for appends are closed once no batch still to be fsynced wrote to them.
      const stillWritten = new Set(unsynced?.starts.keys())
      const done = retired.filter(pack => !stillWritten.has(pack))
      retired = retired.filter(pack => stillWritten.has(pack))
      await Promise.all(done.map(async pack => { await pack.file.close().catch(() => {}) }))
    }
    flushing = undefined
  }

  /** Cuts each pack the failed batches wrote to back to where the first of them began in it (best effort). */
  async function giveBack (failed: Written[]): Promise<void> {
    const from = new Map<PackAppender, number>()
    for (const { starts } of failed) for (const [pack, at] of starts) from.set(pack, Math.min(at, from.get(pack) ?? at))
    for (const [pack, at] of from) await pack.file.truncate(at).catch(() => {})
  }

  /** A full disk (or quota, or database) as a StoreFullError that says where; other errors as they are. */
  function diskError (err: unknown): unknown {
    if (err instanceof DiskFullError) return new StoreFullError(`the disk that holds the chunk store is full: ${err.message}`, { cause: err })
    const code = (err as NodeJS.ErrnoException | undefined)?.code
    const full = code === 'ENOSPC' || code === 'EDQUOT' || (err as { errcode?: number } | undefined)?.errcode === SQLITE_FULL
    return full ? new StoreFullError(`the disk that holds the chunk store (${dir}) is full: ${(err as Error).message}`, { cause: err }) : err
  }

  function damaged (place: ChunkPlace, reason: string, cause?: unknown): StoreDamagedError {
    return new StoreDamagedError(`chunk ${chunkIdHex(place.hash)} in ${where(place)} is damaged (${reason}); fetch it again from a device that has it (storing it again replaces the damaged copy)`,
      cause === undefined ? undefined : { cause })
  }

  /**
   * The chunk's plain bytes, or why they are not it. Without `hashed`, only what the seal shows:
   * it is bound to the index row's hash, so changed bytes and a row pointing at another chunk's
   * bytes still fail; a chunk sealed under a hash it does not have (which put refuses) would not.
   */
  function unseal (place: ChunkPlace, sealed: Uint8Array, hashed = true, keepCompressed = false): Buffer | string {
    let plain: Buffer
    try {
      plain = openBlob(dataKey, sealed, place.hash)
    } catch {
      return 'its bytes changed: it does not authenticate'
    }
    // Shorter than the chunk: the store kept it compressed (chunk-compression.ts).
    if (plain.byteLength < place.size) {
      if (keepCompressed) return plain
      const compressed = plain
      try {
        plain = decompress(compressed, place.size)
      } catch (err) {
        return (err as Error).message
      }
      releaseBytes(compressed)
    }
    if (plain.byteLength !== place.size || (hashed && !isChunk(plain, place.hash))) return 'it authenticates but is not the chunk its index row names'
    return plain
  }

  /** The chunk's bytes, or compressed as stored with `keepCompressed` (shorter than `size` then). */
  async function get (hash: Uint8Array, options: GetOptions & { keepCompressed?: boolean }, retry = true): Promise<{ bytes: Uint8Array, size: number } | undefined> {
    const place = index.find(hash)
    if (place === undefined) return undefined
    const sealed = Buffer.allocUnsafe(place.length)
    let plain: Buffer | string
    let cause: unknown
    try {
      const got = await readers.use(packPath(place.pack), async file => await quickReads.readFully(file, sealed, 0, sealed.byteLength, place.at))
      plain = got < place.length ? 'its pack file is cut short' : unseal(place, sealed, options.callerVerifies !== true, options.keepCompressed)
      releaseBytes(sealed)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      plain = 'its pack file is missing'
      cause = err
    }
    if (typeof plain !== 'string') { touch(hash); return { bytes: plain, size: place.size } }
    // A good copy put while this one was read has taken its place: read that instead (once).
    if (!index.markDamaged(place, plain) && retry) return await get(hash, options, false)
    throw damaged(place, plain, cause)
  }

  async function verify (options: VerifyOptions = {}): Promise<DamagedChunk[]> {
    const signal = options.signal === undefined ? closing.signal : AbortSignal.any([options.signal, closing.signal])
    const total = index.stats().chunks
    const found: DamagedChunk[] = []
    const knownDamaged = index.damaged()
    const buf = Buffer.allocUnsafe(VERIFY_BLOCK)
    let done = 0
    options.onProgress?.(0, total)
    const report = (place: ChunkPlace, reason: string): void => {
      // A chunk replaced by a good copy since this pack's list was read is not damaged.
      if (index.markDamaged(place, reason)) found.push({ hash: place.hash, where: where(place), reason })
    }
    for (const pack of index.packs()) {
      signal.throwIfAborted()
      const chunks = index.chunksIn(pack.id)
      let file: FileHandle
      try {
        file = await open(packPath(pack.id), 'r')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        for (const place of chunks) report(place, 'its pack file is missing')
        done += chunks.length
        continue
      }
      try {
        // One block read serves many chunks: the pack is read once, front to back.
        let block = buf.subarray(0, 0)
        let blockAt = 0
        for (const place of chunks) {
          signal.throwIfAborted()
          if (place.at < blockAt || place.at + place.length > blockAt + block.byteLength) {
            const into = place.length > buf.byteLength ? Buffer.allocUnsafe(place.length) : buf
            block = into.subarray(0, await readFully(file, into, 0, into.byteLength, place.at))
            blockAt = place.at
            await options.pace?.(block.byteLength)
          }
          if (place.at + place.length > blockAt + block.byteLength) {
            report(place, 'its pack file is cut short')
          } else {
            const plain = unseal(place, block.subarray(place.at - blockAt, place.at - blockAt + place.length))
            if (typeof plain === 'string') report(place, plain)
            // Damage that reads well now was a passing fault (a disk that came back): forget it.
            else if (knownDamaged.has(chunkIdHex(place.hash))) index.clearDamaged(place.hash)
          }
          if (++done % 1024 === 0) options.onProgress?.(done, Math.max(done, total))
        }
      } finally {
        await file.close()
      }
    }
    // Chunks put during the scrub may have been read too: the total is then what was read.
    options.onProgress?.(done, Math.max(done, total))
    return found
  }

  async function collect (mark: () => Promise<(hash: Uint8Array) => boolean>, options: CollectOptions): Promise<CollectResult> {
    const signal = options.signal === undefined ? closing.signal : AbortSignal.any([options.signal, closing.signal])
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS
    const before = index.stats().storedBytes
    const startedAt = Date.now()
    fence()
    const live = await mark()
    signal.throwIfAborted()
    const now = Date.now()
    const result: CollectResult = { chunks: 0, swept: 0, sweptBytes: 0, spared: 0, compacted: 0, deletedPacks: 0, freedBytes: 0 }
    // The newest fence at least graceMs old: chunks past it are recent. None: everything is.
    const old = fences.findLast(f => f.time <= now - graceMs)
    // Touched since this collection started, or within the grace period: kept.
    for (const [id, time] of touched) {
      if (time >= Math.min(startedAt, now - graceMs)) break
      touched.delete(id)
    }
    if (fences.length > 1) fences.splice(0, Math.max(0, fences.indexOf(old ?? fences[0]!)))
    if (now - openedAt < graceMs) result.skipped = 'the store was opened within the grace period: what was confirmed before is not known'
    else if (now - touchOverflowAt < graceMs) result.skipped = 'too many chunks were confirmed within the grace period to remember them all'
    else if (old === undefined) result.skipped = 'no part of the store is older than the grace period'
    // Synchronous from here to the index write: nothing is put, confirmed or read in between.
    const places = index.places()
    result.chunks = places.length
    const dead: ChunkPlace[] = []
    if (result.skipped === undefined) {
      for (const place of places) {
        if (live(place.hash)) continue
        if (place.pack > old!.pack || (place.pack === old!.pack && place.at >= old!.at) || touched.has(chunkIdHex(place.hash))) {
          result.spared++
          continue
        }
        dead.push(place)
        result.sweptBytes += place.size
      }
      index.drop(dead)
      result.swept = dead.length
    }
    options.onSwept?.()
    await compact(options, signal, result)
    result.freedBytes = before - index.stats().storedBytes
    return result
  }

  /** Copies the live chunks of mostly dead packs into new packs, then deletes the old ones. */
  async function compact (options: CollectOptions, signal: AbortSignal, result: CollectResult): Promise<void> {
    const below = options.compactBelow ?? DEFAULT_COMPACT_BELOW
    const liveBytes = index.liveBytes()
    const damagedIds = index.damaged()
    const made = new Set<number>()
    let into: PackAppender | undefined
    let intoIndexed = false
    try {
      for (const pack of index.packs()) {
        signal.throwIfAborted()
        if (made.has(pack.id)) continue
        const live = liveBytes.get(pack.id) ?? 0
        if (live >= below * Math.max(1, pack.size - PACK_MAGIC.byteLength)) continue
        const chunks = index.chunksIn(pack.id)
        // A damaged chunk's pack stays as it is, for the scrub report and the repair.
        if (chunks.some(c => damagedIds.has(chunkIdHex(c.hash)))) continue
        if (pack.id === appender?.id) {
          // Puts append to it: only taken while none is being written, and then closed for appends.
          if (flushing !== undefined) continue
          const detached = appender
          appender = undefined
          await detached.file.close().catch(() => {})
        }
        const copies: Array<{ from: ChunkPlace, sealed: Buffer }> = []
        let good = true
        for (const place of chunks) {
          const sealed = Buffer.allocUnsafe(place.length)
          const got = await readers.use(packPath(pack.id), async file => await readFully(file, sealed, 0, sealed.byteLength, place.at)).catch(() => 0)
          if (got < place.length || typeof unseal(place, sealed) === 'string') { good = false; break }
          copies.push({ from: place, sealed })
        }
        if (!good) continue
        if (copies.length > 0) {
          const bytes = copies.reduce((sum, c) => sum + ENTRY_HEADER_BYTES + c.from.length, 0)
          if (into !== undefined && into.end + bytes > packSize && into.end > PACK_MAGIC.byteLength) {
            await into.file.close()
            into = undefined
          }
          if (into === undefined) {
            into = await createPack(dir, nextPackId++, newPackName())
            intoIndexed = false
            made.add(into.id)
          }
          const start = into.end
          const moves: Array<{ from: ChunkPlace, at: number }> = []
          const buffers: Buffer[] = []
          for (const { from, sealed } of copies) {
            buffers.push(entryHeader(from.hash, from.length), sealed)
            moves.push({ from, at: into.end + ENTRY_HEADER_BYTES })
            into.end += ENTRY_HEADER_BYTES + from.length
          }
          await writeAll(into.file, buffers, start)
          await into.file.sync()
          for (const newDir of into.newDirs) await syncDirectory(newDir)
          into.newDirs = []
          options.onStep?.('copied', packLabel(pack.name))
          index.relocate({ id: into.id, name: into.name, size: start }, !intoIndexed, moves)
          intoIndexed = true
          packs.set(into.id, into.name)
          options.onStep?.('relocated', packLabel(pack.name))
          result.compacted++
        }
        // Only once the index no longer points into it does the old pack go.
        if (index.dropPack(pack.id)) {
          await unlink(packPath(pack.id)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
          await syncDirectory(dirname(packPath(pack.id)))
          packs.delete(pack.id)
          result.deletedPacks++
        }
      }
    } finally {
      await into?.file.close().catch(() => {})
    }
  }

  /** Runs a read so that close() waits for it. */
  function track<T> (work: Promise<T>): Promise<T> {
    reading.add(work)
    void work.finally(() => reading.delete(work)).catch(() => {})
    return work
  }

  return {
    async has (hashes, options = {}) {
      checkOpen()
      return hashes.map(hash => {
        const stored = index.state(hash) === 'stored'
        if (stored && options.confirms !== false) touch(hash)
        return stored
      })
    },

    async put (hash, bytes, options = {}) {
      checkOpen()
      if (bytes.byteLength > MAX_CHUNK_BYTES) throw new InvalidInputError(`a chunk of ${bytes.byteLength} bytes is larger than the store takes (${MAX_CHUNK_BYTES})`)
      if (options.verified !== true && !isChunk(bytes, hash)) throw new InvalidInputError('these bytes are not the chunk they are named as (their SHA-256 differs); nothing was stored')
      const id = chunkIdHex(hash)
      // Checked and claimed without an await in between, so racing puts of one chunk write it once.
      const writing = pending.get(id)
      if (writing !== undefined) return await writing
      const known = index.state(hash)
      if (known === 'stored') { touch(hash); return }
      const done = Promise.withResolvers<void>()
      pending.set(id, done.promise)
      // Kept compressed only when shorter: that is how unseal tells a compressed chunk.
      const given = options.compressed !== undefined && options.compressed.byteLength < bytes.byteLength ? options.compressed : undefined
      const ours = given === undefined && options.compress !== false ? compressIfItPays(bytes) : undefined
      const sealed = sealParts(dataKey, given ?? ours ?? bytes, hash)
      if (ours !== undefined) releaseBytes(ours)
      const length = sealed.reduce((sum, part) => sum + part.byteLength, 0)
      queue.push({ hash: Uint8Array.from(hash), sealed, length, size: bytes.byteLength, replaces: known === 'damaged', done })
      flushing ??= flush()
      return await done.promise
    },

    async get (hash, options = {}) {
      checkOpen()
      return (await track(get(hash, options)))?.bytes
    },

    async getStored (hash) {
      checkOpen()
      const got = await track(get(hash, { callerVerifies: true, keepCompressed: true }))
      return got && { bytes: got.bytes, size: got.size, compressed: got.bytes.byteLength < got.size }
    },

    async stats () {
      checkOpen()
      return index.stats()
    },

    async verify (options) {
      checkOpen()
      return await track(verify(options))
    },

    async collect (mark, options = {}) {
      checkOpen()
      // One at a time: a second collection waits for the first.
      const run = collecting.catch(() => {}).then(async () => { checkOpen(); return await collect(mark, options) })
      collecting = run
      return await track(run)
    },

    async close () {
      if (closed) return
      closed = true
      closing.abort(new Error('the chunk store was closed'))
      // Bounded: the queue only grows through put(), which is refused from now on.
      while (flushing !== undefined) await flushing
      await Promise.allSettled([...reading])
      await readers.close()
      await appender?.file.close().catch(() => {})
      appender = undefined
      index.close()
    }
  }
}

/** A store opened with another key would seal new chunks under it and read old ones as damage: refuse it up front. */
export function checkKey (index: PackIndex, dataKey: KeyObject, dir: string): void {
  const check = index.meta(KEY_CHECK)
  if (check === undefined) {
    index.setMeta(KEY_CHECK, sealBlob(dataKey, Buffer.from('aerie'), KEY_CHECK_AAD))
    return
  }
  try {
    openBlob(dataKey, check, KEY_CHECK_AAD)
  } catch (err) {
    throw new InvalidKeyError(`this data key does not open the chunk store in ${dir}: it was made with another one; unlock the keyring that belongs to this store`, { cause: err })
  }
}
