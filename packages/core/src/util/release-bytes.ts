/**
 * Gives a buffer's memory back now instead of at V8's next full collection. Chunk bytes pass
 * through a transfer once and die, but V8 frees an ArrayBuffer's memory only when a collection
 * finds the buffer dead, and those that lived long enough to reach the old generation wait for
 * a full one: between them a backup's agent held hundreds of MiB of dead chunks (the whole
 * 464 MiB of a first backup passed through), and the full collections that freed them were
 * most of its garbage collector's work.
 *
 * Only for bytes the caller owns alone and will not read again, and that nothing it handed
 * them to still uses (a write not yet finished, a queue). A view that is not the whole of its
 * memory (a slice of Node's shared pool, a part of a larger socket read whose other bytes may be
 * another message still in use) is left as it is.
 */
export function releaseBytes (bytes: Uint8Array): void {
  const memory = bytes.buffer
  if (!(memory instanceof ArrayBuffer) || memory.detached || bytes.byteOffset !== 0 || bytes.byteLength !== memory.byteLength) return
  // Detaching frees the memory at once; every view of it reads as empty from then on.
  memory.transfer(0)
}

/**
 * `bytes` in memory of their own: themselves when they are the whole of it, else a copy. A view
 * into what a message arrived in keeps all of that alive; held across a few young-generation
 * collections (a chunk waiting to be written), it is promoted and stays until V8's next full
 * one, with every other message it arrived beside: receiving 20 000 small files, 60 MiB of such
 * memory piled up. A copy lets what it arrived in go at once, and is freed itself once written
 * (releaseBytes).
 */
export function ownBytes (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes)
}
