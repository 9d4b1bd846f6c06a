import { ByteBudget } from '../util/byte-budget.ts'
import { inParallel } from '../util/in-parallel.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import type { FileRecord, FolderIndex } from '../index/index.ts'
import type { ChunkStore } from '../store/index.ts'
import type { CentralHistory } from './central-history.ts'
import type { PullProgress, PullResult } from './puller.ts'

/**
 * The team server's puller: brings a folder's central copy up to the global version of every
 * path. A file's content goes into the chunk store (only the chunks the store lacks cross the
 * network: dedupe across every folder and device), never onto disk as a file. The version a
 * change replaces goes to the central history. Records are adopted only once every chunk they
 * need is durable in the store, so the central copy never announces what it cannot serve.
 */
export interface StorePullInit {
  folder: string
  index: FolderIndex
  store: ChunkStore
  history: CentralHistory
  /** A chunk from the members whose hash has been checked, asking `device` (the winner's holder) first. */
  fetchChunk(hash: Uint8Array, size: number, device: string): Promise<Uint8Array>
  onProgress?(progress: PullProgress): void
}

/** Files at once: many small files are bound by round trips. */
const FILES_IN_FLIGHT = 32
/** Chunk requests in flight per file. */
const CHUNKS_IN_FLIGHT = 32
/** Chunk bytes asked for and not yet stored, across all files: enough to keep the link busy, bounded memory. */
const BYTES_IN_FLIGHT = 16 * 1024 * 1024
const ADOPT_BATCH = 256
const PROGRESS_EVERY_MS = 250

export async function pullIntoStore (init: StorePullInit, signal?: AbortSignal): Promise<PullResult> {
  const { folder, index, store, history } = init
  const needed = index.need(folder)
  const result: PullResult = {
    folder,
    needFiles: needed.length,
    needBytes: needed.reduce((n, item) => n + (item.winner.deleted ? 0 : item.winner.size), 0),
    doneFiles: 0,
    doneBytes: 0,
    localBytes: 0,
    networkBytes: 0,
    problems: [],
    skipped: 0
  }
  if (needed.length === 0) return result

  // A chunk two files need at once is fetched and stored once.
  const storing = new Map<string, Promise<void>>()
  const budget = new ByteBudget(BYTES_IN_FLIGHT)
  const ensureStored = async (hash: Uint8Array, size: number, device: string): Promise<void> => {
    const key = Buffer.from(hash).toString('hex')
    let pending = storing.get(key)
    if (pending === undefined) {
      pending = (async () => {
        await budget.take(size)
        try {
          const bytes = await init.fetchChunk(hash, size, device)
          // fetchChunk has checked the hash: the store need not hash it again.
          await store.put(hash, bytes, { verified: true })
          // Sealed into the store: the fetched bytes are nobody's now (the chunk client's own copy).
          releaseBytes(bytes)
          result.networkBytes += size
        } finally {
          budget.give(size)
        }
      })()
      storing.set(key, pending)
      pending.catch(() => storing.delete(key))
    }
    await pending
  }

  let adopted: Array<{ record: FileRecord, device: string }> = []
  const flush = (): void => {
    const batch = adopted
    adopted = []
    if (batch.length === 0) return
    try {
      // What each record replaces goes to the history first: a version is never dropped unkept.
      history.addMany(folder, batch.flatMap(({ record, device }) => {
        const current = index.getLocal(folder, record.path)
        return current !== undefined && !current.deleted && current.type !== 'dir' ? [{ record: current, replacedBy: device }] : []
      }))
      index.adoptRemotes(folder, batch.map(b => b.record))
    } catch {
      for (const { record } of batch) {
        try {
          index.adoptRemote(folder, record)
        } catch (err) {
          result.problems.push({ path: record.path, message: (err as Error).message })
        }
      }
    }
  }
  let lastProgress = 0
  const progress = (force = false): void => {
    if (!force && Date.now() - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = Date.now()
    const { problems: _problems, skipped: _skipped, ...figures } = result
    init.onProgress?.(figures)
  }

  await inParallel(needed, FILES_IN_FLIGHT, async ({ winner, device }) => {
    signal?.throwIfAborted()
    try {
      if (winner.type === 'file' && !winner.deleted && winner.chunks.length > 0) {
        const present = await store.has(winner.chunks.map(c => c.hash))
        const missing = winner.chunks.filter((_, i) => present[i] !== true)
        result.localBytes += winner.size - missing.reduce((n, c) => n + c.size, 0)
        await inParallel(missing, CHUNKS_IN_FLIGHT, async (chunk) => { await ensureStored(chunk.hash, chunk.size, device) })
      }
      adopted.push({ record: winner, device: winner.modifiedBy })
      result.doneFiles++
      result.doneBytes += winner.deleted ? 0 : winner.size
      if (adopted.length >= ADOPT_BATCH) flush()
      progress()
    } catch (err) {
      if (signal?.aborted === true) throw err
      result.problems.push({ path: winner.path, message: (err as Error).message })
    }
  })
  flush()
  progress(true)
  return result
}
