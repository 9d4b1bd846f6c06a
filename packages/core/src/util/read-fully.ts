import type { FileHandle } from 'node:fs/promises'

/** Reads `length` bytes into `buf` at `at`, or until end of file; returns how many it got. */
export async function readFully (file: FileHandle, buf: Uint8Array, at: number, length: number, position: number): Promise<number> {
  let done = 0
  while (done < length) {
    const { bytesRead } = await file.read(buf, at + done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}
