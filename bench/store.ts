import { createSecretKey, randomBytes } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkId, hashChunksOfBuffer, openPackStore, readFully, rebuildPackIndex } from '@aerie/core'
import { inParallel } from '../packages/core/src/util/in-parallel.ts'
import { BenchError, checkFlags, cpuSeconds, flag, formatBytes, machine, parseBytes, peakRss, resetPeakRss, scratchDir, UsageError } from './support/measure.ts'

/**
 * Chunk store benchmark: put B bytes of random chunks into a fresh pack store (seal, append,
 * fsync, index), get them all back, verify (scrub) the store and rebuild its index from the
 * packs, next to the physical reference measured in the same run on the same disk: writing the
 * same bytes to one file with fs writes and one fsync at the end, and reading that file back.
 *
 *   npm run bench -- store [--bytes 1GiB] [--parallel 256]   (or BENCH_BYTES=1GiB)
 */
export const description = 'chunk store put, get, verify and index rebuild against fs writes + fsync and reads of the same bytes'

/** Chunks are cut from this much random data, each with its own number in front, so all differ. */
const POOL = 64 * 1024 * 1024
const READ_BLOCK = 4 * 1024 * 1024
const GETS_IN_FLIGHT = 16

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['bytes', 'parallel'])
  const bytes = parseBytes(flag(args, 'bytes') ?? process.env.BENCH_BYTES ?? '1GiB', flag(args, 'bytes') != null ? '--bytes' : 'BENCH_BYTES')
  const parallel = Number(flag(args, 'parallel') ?? '256')
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 4096) throw new UsageError('--parallel: give a whole number of puts in flight, 1 to 4096')
  const scratch = await scratchDir('store')
  const dir = scratch.path
  const label = (what: string): string => `store ${what}`.padEnd(16)
  const rate = (ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`.padStart(10)
  try {
    const chunks = new ChunkSource(bytes)
    console.log(`store bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  B = ${formatBytes(bytes)} in ${chunks.count} random chunks ` +
      `(FastCDC's sizes, mean ${formatBytes(bytes / chunks.count)}) in ${dir}, ${parallel} puts in flight`)

    const reference = join(dir, 'reference')
    const write = await timeDiskWrite(reference, chunks, parallel)

    const storeKey = createSecretKey(randomBytes(32))
    const store = await openPackStore({ dir: join(dir, 'store'), dataKey: storeKey })
    const all = Array.from({ length: chunks.count }, (_, i) => i)
    try {
      const put = await phase(async () => {
        await inParallel(all, parallel, async i => { await store.put(chunks.hash(i), chunks.bytes(i)) })
      })
      const stats = await store.stats()
      if (stats.chunks !== chunks.count || stats.uniqueBytes !== bytes) throw new BenchError(`the store holds ${stats.chunks} chunks of ${stats.uniqueBytes} bytes, not ${chunks.count} of ${bytes}`)
      const get = await phase(async () => {
        await inParallel(all, GETS_IN_FLIGHT, async i => {
          if ((await store.get(chunks.hash(i)))?.byteLength !== chunks.size(i)) throw new BenchError(`chunk ${i} did not come back`)
        })
      })
      const read = await timeReads(reference, bytes)
      const verify = await phase(async () => {
        const damaged = await store.verify()
        if (damaged.length > 0) throw new BenchError(`verify found ${damaged.length} damaged chunks in a fresh store`)
      })
      const index = await sizeOf(join(dir, 'store', 'chunks.db')) + await sizeOf(join(dir, 'store', 'chunks.db-wal'))
      await store.close()
      const rebuild = await phase(async () => {
        const report = await rebuildPackIndex({ dir: join(dir, 'store'), dataKey: storeKey })
        if (report.chunks !== chunks.count || report.damaged.length > 0) throw new BenchError(`the rebuild indexed ${report.chunks} of ${chunks.count} chunks, ${report.damaged.length} damaged stretches`)
      })
      const perGiB = (cpu: number | undefined): string => cpu === undefined ? 'unknown' : `${(cpu / (bytes / 1024 ** 3)).toFixed(2)} CPU-s/GiB`
      console.log(`${label('disk write')}${rate(write)}   fs writes of ${parallel} chunks at a time and one fsync at the end (the physical reference)`)
      console.log(`${label('put')}${rate(put.ms)}   ${(write / put.ms).toFixed(2)} x the disk write; ${perGiB(put.cpu)} (SHA-256 check, AES-GCM, fsync per group commit)`)
      console.log(`${label('file read')}${rate(read)}   the reference file in reads of ${formatBytes(READ_BLOCK)}, page cache warm`)
      console.log(`${label('get')}${rate(get.ms)}   ${(read / get.ms).toFixed(2)} x the file read; ${GETS_IN_FLIGHT} in flight, ${perGiB(get.cpu)} (decrypt + SHA-256 check per chunk)`)
      console.log(`${label('verify')}${rate(verify.ms)}   ${(read / verify.ms).toFixed(2)} x the file read; ${perGiB(verify.cpu)}`)
      console.log(`${label('rebuild')}${rate(rebuild.ms)}   ${(read / rebuild.ms).toFixed(2)} x the file read; ${perGiB(rebuild.cpu)} (every pack read, each chunk decrypted and hashed)`)
      console.log(`${label('on disk')}${(stats.storedBytes / bytes).toFixed(4)} x the unique bytes in packs, index ${formatBytes(index)}`)
      console.log(`${label('peak RSS')}put ${put.rss}   get ${get.rss}   verify ${verify.rss}   rebuild ${rebuild.rss}`)
    } finally {
      await store.close()
    }
  } finally {
    await scratch.remove()
  }
}

/** Reproducible distinct chunks, made when needed: the run never holds B bytes in memory. */
class ChunkSource {
  readonly count: number
  private readonly pool = randomBytes(POOL)
  private readonly sizes: number[] = []
  private readonly hashes: Uint8Array[] = []

  constructor (bytes: number) {
    const cut = hashChunksOfBuffer(this.pool).map(c => c.size)
    // Bounded: every turn adds at least one byte.
    for (let total = 0; total < bytes;) {
      const size = Math.min(cut[this.sizes.length % cut.length]!, bytes - total)
      this.sizes.push(size)
      total += size
    }
    this.count = this.sizes.length
    // Untimed: the store's callers have their chunks' hashes already.
    for (let i = 0; i < this.count; i++) this.hashes.push(chunkId(this.bytes(i)))
  }

  size (i: number): number { return this.sizes[i]! }
  hash (i: number): Uint8Array { return this.hashes[i]! }

  bytes (i: number): Buffer {
    const size = this.sizes[i]!
    const at = (i * 4099) % (POOL - size)
    const chunk = Buffer.from(this.pool.subarray(at, at + size))
    if (size >= 8) chunk.writeUInt32BE(i, 0)
    return chunk
  }
}

async function sizeOf (path: string): Promise<number> {
  return await stat(path).then(s => s.size, () => 0)
}

async function phase (work: () => Promise<void>): Promise<{ ms: number, cpu: number | undefined, rss: string }> {
  const before = process.memoryUsage.rss()
  resetPeakRss('self')
  const cpuBefore = cpuSeconds('self')
  const started = performance.now()
  await work()
  const ms = performance.now() - started
  const cpuAfter = cpuSeconds('self')
  // The peak beside where the phase began: garbage from earlier phases is not its doing.
  const rss = `${formatBytes(peakRss('self') ?? 0)} (from ${formatBytes(before)})`
  return { ms, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore, rss }
}

async function timeDiskWrite (path: string, chunks: ChunkSource, group: number): Promise<number> {
  const file = await open(path, 'w')
  try {
    const started = performance.now()
    let position = 0
    for (let first = 0; first < chunks.count; first += group) {
      const buffers = Array.from({ length: Math.min(group, chunks.count - first) }, (_, k) => chunks.bytes(first + k))
      const length = buffers.reduce((sum, b) => sum + b.byteLength, 0)
      const { bytesWritten } = await file.writev(buffers, position)
      if (bytesWritten !== length) throw new BenchError(`the disk took ${bytesWritten} of ${length} bytes (is it full?)`)
      position += length
    }
    await file.sync()
    return performance.now() - started
  } finally {
    await file.close()
  }
}

async function timeReads (path: string, bytes: number): Promise<number> {
  const buf = Buffer.allocUnsafe(READ_BLOCK)
  const file = await open(path, 'r')
  try {
    const started = performance.now()
    let position = 0
    // Bounded by the file's size: every turn reads a full block or ends.
    for (let turn = 0; turn <= Math.ceil(bytes / READ_BLOCK); turn++) {
      const n = await readFully(file, buf, 0, READ_BLOCK, position)
      position += n
      if (n < READ_BLOCK) break
    }
    if (position !== bytes) throw new BenchError(`read ${position} bytes of a ${bytes}-byte file`)
    return performance.now() - started
  } finally {
    await file.close()
  }
}
