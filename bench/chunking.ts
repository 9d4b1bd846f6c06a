import { randomBytes, randomFillSync } from 'node:crypto'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkFile, chunkId, findCutPoint, hashChunksOfBuffer, MAX_CHUNK_SIZE, readFully } from '@aerie/core'
import { BenchError, checkFlags, cpuSeconds, flag, formatBytes, machine, parseBytes, scratchDir } from './support/measure.ts'
import type { FileHandle } from 'node:fs/promises'

/**
 * Chunking benchmark: how fast a file becomes its chunk list, next to what bounds it,
 * all over the same temp file of random bytes in the same run (page cache warm):
 * plain reads (the physical reference), SHA-256 alone, FastCDC alone, then chunkFile,
 * which does reads + FastCDC + SHA-256 as the scanner will.
 *
 *   npm run bench -- chunking [--bytes 1GiB]   (or BENCH_BYTES=1GiB)
 */
export const description = 'chunkFile (FastCDC + SHA-256) against reads, SHA-256 alone and FastCDC alone'

/** Read size of the reference passes, the same as chunkFile's. */
const BLOCK = 4 * 1024 * 1024
/** SHA-256 alone hashes pieces of the average chunk size, each with a fresh hash, as chunk ids are. */
const HASH_PIECE = 64 * 1024

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['bytes'])
  const bytes = parseBytes(flag(args, 'bytes') ?? process.env.BENCH_BYTES ?? '1GiB', flag(args, 'bytes') != null ? '--bytes' : 'BENCH_BYTES')
  const scratch = await scratchDir('chunking')
  const dir = scratch.path
  const path = join(dir, 'data')
  const label = (what: string): string => `chunking ${what}`.padEnd(20)
  const rate = (ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`.padStart(10)
  try {
    console.log(`chunking bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  B = ${formatBytes(bytes)} of random bytes in ${dir}, page cache warm`)
    await writeRandomFile(path, bytes)
    // Untimed: lets V8 optimise FastCDC's loop before any figure is taken.
    hashChunksOfBuffer(randomBytes(64 * 1024 * 1024))
    await timeReads(path, bytes) // warms the page cache and the read path
    const read = await timeReads(path, bytes)
    console.log(`${label('read')}${rate(read)}   fs reads of ${formatBytes(BLOCK)} (the physical reference)`)
    const sha = await timeSha256(path, bytes)
    console.log(`${label('sha256')}${rate(sha)}   SHA-256 alone, a fresh hash per ${formatBytes(HASH_PIECE)}, reads not timed`)
    const cdc = await timeFastCdc(path, bytes)
    console.log(`${label('fastcdc')}${rate(cdc.ms)}   FastCDC cut points alone, reads not timed: ${cdc.chunks} chunks, mean ${formatBytes(bytes / cdc.chunks)}`)
    const cpuBefore = cpuSeconds('self')
    const started = performance.now()
    const chunks = await chunkFile(path)
    const whole = performance.now() - started
    const cpuAfter = cpuSeconds('self')
    if (chunks.length !== cdc.chunks) throw new BenchError(`chunkFile made ${chunks.length} chunks where FastCDC alone made ${cdc.chunks}`)
    console.log(`${label('chunkFile')}${rate(whole)}   reads + FastCDC + SHA-256, one call`)
    // Steadier than wall time on a shared machine.
    const cpu = cpuBefore == null || cpuAfter == null ? 'unknown' : `${((cpuAfter - cpuBefore) / (bytes / 1024 ** 3)).toFixed(2)} s`
    console.log(`${label('CPU/GiB')}${cpu.padStart(10)}   chunkFile, all threads (reads included)`)
    // sha256 + fastcdc one after the other on one core: what chunkFile would take without overlapping its reads.
    const serial = sha + cdc.ms
    console.log(`${label('ratios')}chunkFile/sha256 ${(sha / whole).toFixed(2)}   chunkFile/read ${(read / whole).toFixed(2)}   chunkFile/(sha256+fastcdc in series) ${(serial / whole).toFixed(2)}`)
  } finally {
    await scratch.remove()
  }
}

async function writeRandomFile (path: string, bytes: number): Promise<void> {
  const piece = Buffer.allocUnsafe(16 * 1024 * 1024)
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < bytes;) {
      const n = Math.min(piece.byteLength, bytes - written)
      randomFillSync(piece, 0, n)
      await writeFully(file, piece.subarray(0, n), written)
      written += n
    }
  } finally {
    await file.close()
  }
}

async function writeFully (file: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.byteLength;) {
    const { bytesWritten } = await file.write(data, done, data.byteLength - done, position + done)
    if (bytesWritten === 0) throw new BenchError('the disk took no more bytes (is it full?)')
    done += bytesWritten
  }
}

/**
 * Reads the whole file in blocks, each placed after `keep(buf, end)` bytes carried to the
 * front (so FastCDC can carry its tail), and calls `work` on each; returns the
 * milliseconds spent in `work`, or in the reads too when `timeReads` is set.
 */
async function eachBlock (path: string, bytes: number, work: (buf: Buffer, start: number, end: number, final: boolean) => number, timeReads = false): Promise<number> {
  const buf = Buffer.allocUnsafe(MAX_CHUNK_SIZE + BLOCK)
  const file = await open(path, 'r')
  try {
    let ms = 0
    let carried = 0
    let position = 0
    const started = performance.now()
    // Bounded by the file's size: every turn reads a full block or ends.
    for (let turn = 0; turn <= Math.ceil(bytes / BLOCK); turn++) {
      const n = await readFully(file, buf, MAX_CHUNK_SIZE, BLOCK, position)
      position += n
      const final = n < BLOCK
      const start = MAX_CHUNK_SIZE - carried
      const t = performance.now()
      carried = MAX_CHUNK_SIZE + n - work(buf, start, MAX_CHUNK_SIZE + n, final)
      ms += performance.now() - t
      buf.copyWithin(MAX_CHUNK_SIZE - carried, MAX_CHUNK_SIZE + n - carried, MAX_CHUNK_SIZE + n)
      if (final) {
        if (position !== bytes) throw new BenchError(`read ${position} bytes of a ${bytes}-byte file`)
        return timeReads ? performance.now() - started : ms
      }
    }
    throw new BenchError('the file grew while it was read')
  } finally {
    await file.close()
  }
}

async function timeReads (path: string, bytes: number): Promise<number> {
  return await eachBlock(path, bytes, (_buf, _start, end) => end, true)
}

async function timeSha256 (path: string, bytes: number): Promise<number> {
  return await eachBlock(path, bytes, (buf, start, end) => {
    for (let at = start; at < end; at += HASH_PIECE) chunkId(buf.subarray(at, Math.min(end, at + HASH_PIECE)))
    return end
  })
}

async function timeFastCdc (path: string, bytes: number): Promise<{ ms: number, chunks: number }> {
  let chunks = 0
  const ms = await eachBlock(path, bytes, (buf, start, end, final) => {
    let at = start
    for (let size = findCutPoint(buf, at, end, final); size > 0; size = findCutPoint(buf, at, end, final)) {
      at += size
      chunks++
    }
    return at
  })
  return { ms, chunks }
}
