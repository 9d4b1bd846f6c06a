import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestChunk } from './chunk-store-compliance.ts'

/** A pack store's pack files, as a test sees them on disk (sorted paths). */
export async function packFilesIn (dir: string): Promise<string[]> {
  const files = await readdir(join(dir, 'packs'), { recursive: true })
  return files.filter(f => f.endsWith('.pack')).map(f => join(dir, 'packs', f)).sort()
}

/** The pack file holding a chunk and where its entry starts (the entry header names the chunk). */
export async function findEntryIn (dir: string, chunk: TestChunk): Promise<{ path: string, at: number }> {
  for (const path of await packFilesIn(dir)) {
    const at = (await readFile(path)).indexOf(chunk.hash)
    if (at >= 0) return { path, at }
  }
  throw new Error('chunk not found in any pack')
}

/** Flips one bit of the byte at `at`, as a failing disk would. */
export async function flipByte (path: string, at: number): Promise<void> {
  const file = await open(path, 'r+')
  try {
    const byte = Buffer.alloc(1)
    await file.read(byte, 0, 1, at)
    byte[0] = byte[0]! ^ 0x40
    await file.write(byte, 0, 1, at)
  } finally {
    await file.close()
  }
}
