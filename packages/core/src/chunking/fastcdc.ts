import { createHash } from 'node:crypto'

/**
 * FastCDC (Xia et al., "The Design of Fast Content-Defined Chunking for Data
 * Deduplication Based Storage Systems", IEEE TPDS 2020): a gear hash over the bytes,
 * cut-point skipping below the minimum size, normalised chunking at level 2 (a harder
 * mask before the average size, an easier one after it) and the paper's "rolling two
 * bytes each iteration" with a second gear table shifted left by one.
 *
 * Chunk boundaries are part of Aerie's on-disk and wire format: two devices, or two
 * versions of a file, share chunks only if they cut the same bytes at the same places.
 * The sizes, masks and gear table below must therefore NEVER change; a pinned test
 * (chunk-boundaries-are-pinned.test.ts) fails if any of them does.
 */

/**
 * 16 KiB minimum: below it the per-chunk cost (an index row, a hash, a request on the
 * wire) outweighs what finer dedupe gains, and skipping it is what makes FastCDC fast.
 * 64 KiB average: an insertion disturbs about one chunk of this size, while a 1 GiB
 * file needs only ~16k index entries. 256 KiB maximum: bounds the buffer a reader or
 * puller must hold and the cost of one chunk in the worst case (data without cuts).
 */
export const MIN_CHUNK_SIZE = 16 * 1024
export const AVG_CHUNK_SIZE = 64 * 1024
export const MAX_CHUNK_SIZE = 256 * 1024

/**
 * Normalised chunking level 2: 16 + 2 = 18 mask bits before the average size and
 * 16 - 2 = 14 after it. The bits are the top of the 31 low bits: bit k of a gear
 * hash depends on the last k + 1 bytes, so these masks see a 31-byte window (the
 * paper's spread-out masks serve the same purpose in 64 bits). Bit 31 stays clear
 * so that the masks shifted left by one (for the rolling-two-bytes step) lose nothing.
 */
const MASK_S = 0x7fff_e000 // bits 13..30 (18 bits)
const MASK_L = 0x7ffe_0000 // bits 17..30 (14 bits)

/**
 * 256 pseudo-random 32-bit values from SHA-256 in counter mode over a fixed string
 * (block k = SHA-256(seed || k as uint32 big-endian), read as big-endian words), so any
 * implementation can regenerate them and they can never drift. Int32Array keeps every
 * value (and so the rolling hash) a 32-bit integer V8 holds untagged in a register.
 */
const GEAR = gearTable('aerie fastcdc gear table v1')
/** GEAR shifted left by one, for the first of the two bytes each iteration consumes. */
const GEAR_LS = GEAR.map(g => g << 1)

function gearTable (seed: string): Int32Array {
  const bytes = new Uint8Array(256 * 4)
  for (let block = 0; block < bytes.length / 32; block++) {
    const counter = new Uint8Array(4)
    new DataView(counter.buffer).setUint32(0, block)
    bytes.set(createHash('sha256').update(seed).update(counter).digest(), block * 32)
  }
  const view = new DataView(bytes.buffer)
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i++) table[i] = view.getInt32(i * 4)
  return table
}

/**
 * The hash where rollGear stopped without a cut, for the next phase to continue from
 * (a second return value, not state: every read follows a write in the same call).
 */
let rolledHash = 0

/**
 * Rolls the gear hash `fp` over buf[from, to) (an even number of bytes) and returns the
 * index just after the first byte where the hash has no bit of `mask` set, or -1 (then
 * the hash is left in rolledHash). The hot loop lives alone in this function so that
 * the rare paths of findCutPoint (partial data, the end of a file) cannot send it back
 * to the interpreter when V8 meets them for the first time.
 *
 * Two bytes per iteration: (fp << 2) + (g << 1) is twice the hash after the first byte,
 * so the first test uses the mask shifted left by one; adding the second byte's g then
 * gives the hash after both. The result is exactly that of one byte at a time.
 * `| 0` wraps like `>>> 0` (the same 32 bits, read as int32, which V8 keeps untagged);
 * the masks only test bits, so the sign never matters.
 */
function rollGear (buf: Uint8Array, from: number, to: number, fp: number, mask: number): number {
  const maskLs = mask << 1
  for (let i = from; i < to; i += 2) {
    fp = ((fp << 2) + GEAR_LS[buf[i]!]!) | 0
    if ((fp & maskLs) === 0) return i + 1
    fp = (fp + GEAR[buf[i + 1]!]!) | 0
    if ((fp & mask) === 0) return i + 2
  }
  rolledHash = fp
  return -1
}

/**
 * Length of the chunk that starts at `buf[start]`, looking at no byte at or after `end`.
 * The hash runs from the chunk's MIN_CHUNK_SIZE-th byte on, and a chunk ends with (includes)
 * the first byte after which the hash matches the mask for its position.
 *
 * A cut at length n depends only on the chunk's own n bytes, so a cut found in a
 * partial buffer is final. When `end - start` is less than MAX_CHUNK_SIZE and no cut
 * was found, the answer depends on whether more bytes follow: with `final` false
 * (the default) it returns -1, "give me more data"; with `final` true (this is the end
 * of the input) the rest is the last chunk, and 0 means there is nothing left.
 */
export function findCutPoint (buf: Uint8Array, start: number, end: number, final = false): number {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new RangeError(`findCutPoint: [${start}, ${end}) is not inside a buffer of ${buf.length} bytes`)
  }
  const available = end - start
  if (available < MIN_CHUNK_SIZE) return final ? available : -1
  // The hash starts at the byte that would end a minimum-size chunk (cut-point skipping).
  const from = start + MIN_CHUNK_SIZE - 1
  // A chunk of MAX_CHUNK_SIZE is cut whatever its last byte is, so that byte is not hashed.
  const limit = available >= MAX_CHUNK_SIZE ? start + MAX_CHUNK_SIZE - 1 : end
  const normal = Math.min(start + AVG_CHUNK_SIZE - 1, limit)

  // Both phases span an even number of bytes, except where partial data ends: that odd
  // last byte is rolled alone.
  let i = from + ((normal - from) & ~1)
  let cut = rollGear(buf, from, i, 0, MASK_S)
  if (cut >= 0) return cut - start
  if (i < normal) {
    rolledHash = ((rolledHash << 1) + GEAR[buf[i]!]!) | 0
    if ((rolledHash & MASK_S) === 0) return i + 1 - start
    i++
  }
  const to = i + ((limit - i) & ~1)
  cut = rollGear(buf, i, to, rolledHash, MASK_L)
  if (cut >= 0) return cut - start
  if (to < limit) {
    rolledHash = ((rolledHash << 1) + GEAR[buf[to]!]!) | 0
    if ((rolledHash & MASK_L) === 0) return to + 1 - start
  }
  if (available >= MAX_CHUNK_SIZE) return MAX_CHUNK_SIZE
  return final ? available : -1
}
