import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { StoreDamagedError } from '../errors.ts'

/**
 * Compression where it pays: a store keeps a chunk zstd-compressed only when that saves at
 * least an eighth of it. Most bytes on an endpoint are media, archives and other compressed
 * formats, so a chunk is first judged by the byte entropy of a sample (≈ 7 µs, against
 * ≈ 17 µs to compress the same sample): near 8 bits a byte nothing is tried. Level 1 (zstd's
 * fastest with real matching, ≈ 700 MB/s on text here) compresses text and code to ≈ 12%;
 * level 3 gained under a point more at a quarter of the speed.
 *
 * A compressed chunk is told from a plain one by its length alone: shorter than the chunk
 * (the store keeps the plain size beside it), so stores written before compression read as
 * they are.
 */

/** Chunks smaller than this are kept as they are (headers would eat the gain). */
const MIN_BYTES = 512
const SAMPLE_BYTES = 4096
/**
 * Above this (bits a byte, of a 4 KiB sample) the chunk is taken to be incompressible: random
 * and compressed data measure 7.95 on a 4 KiB sample, text 4.5–5.5, executables ≈ 6.
 */
const MAX_ENTROPY = 7.2
const LEVEL = 1

/** The chunk compressed, or undefined when that would not save an eighth of it. */
export function compressIfItPays (bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.byteLength < MIN_BYTES || sampleEntropy(bytes) > MAX_ENTROPY) return undefined
  const compressed = zstdCompressSync(bytes, { params: { [constants.ZSTD_c_compressionLevel]: LEVEL } })
  return compressed.byteLength <= bytes.byteLength - bytes.byteLength / 8 ? compressed : undefined
}

/** A chunk compressIfItPays compressed, back to its `size` bytes; anything else is a StoreDamagedError. */
export function decompress (compressed: Uint8Array, size: number): Buffer {
  let plain: Buffer
  try {
    // Bounded by the size the store recorded: a damaged frame cannot grow without limit. Into
    // one buffer of that size (30 KB of text: 33 µs instead of 40 in steps of 16 KiB).
    plain = zstdDecompressSync(compressed, { maxOutputLength: Math.max(1, size), chunkSize: Math.max(64, size) })
  } catch (err) {
    throw new StoreDamagedError(`a compressed chunk does not decompress to its ${size} bytes`, { cause: err })
  }
  if (plain.byteLength !== size) throw new StoreDamagedError(`a compressed chunk decompresses to ${plain.byteLength} bytes, not its ${size}`)
  return plain
}

/**
 * A stored chunk whose plain size is not known (an index rebuild reads it from its pack alone):
 * its bytes when they are a zstd frame of at most `maxSize` bytes, else undefined.
 */
export function decompressUnknownSize (stored: Uint8Array, maxSize: number): Buffer | undefined {
  try {
    return zstdDecompressSync(stored, { maxOutputLength: maxSize })
  } catch {
    return undefined
  }
}

/** Shannon entropy, in bits a byte, of a sample from the middle of `bytes` (file headers are often plainer than what follows). */
function sampleEntropy (bytes: Uint8Array): number {
  const start = Math.max(0, Math.floor((bytes.byteLength - SAMPLE_BYTES) / 2))
  const sample = bytes.subarray(start, start + SAMPLE_BYTES)
  const counts = new Uint32Array(256)
  for (let i = 0; i < sample.byteLength; i++) counts[sample[i]!]!++
  let bits = 0
  for (const count of counts) {
    if (count === 0) continue
    const p = count / sample.byteLength
    bits -= p * Math.log2(p)
  }
  return bits
}
