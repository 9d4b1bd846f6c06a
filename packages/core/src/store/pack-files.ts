import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeAll } from '../util/durable-io.ts'
import type { FileHandle } from 'node:fs/promises'

/**
 * Pack files: chunks appended one after another, each sealed (data-key.ts) and preceded by an
 * entry header (its hash and sealed length), after an 8-byte magic. The index says where each
 * chunk is; the headers make a pack readable without it (pack-rebuild.ts).
 * Pack bytes are never overwritten: appends go past the last indexed byte of a file whose
 * length is exactly that, or to a new pack.
 */
export const PACK_MAGIC = Buffer.from('AERPACK1')
export const ENTRY_HEADER_BYTES = 32 + 4
/** Chunks are at most 256 KiB (FastCDC); the bound is looser for blobs stored as chunks, and keeps one get's memory small. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024
/** A pack's file name: 32 hex digits and `.pack`, under `packs/` and its first two digits. */
export const PACK_FILE_NAME = /^[0-9a-f]{32}\.pack$/

/** A pack's path relative to the store, as messages name it. */
export function packLabel (name: string): string {
  return join('packs', name.slice(0, 2), `${name}.pack`)
}

/** The names of the pack files under the store's `packs/` (none when it is missing). */
export async function listPackFiles (dir: string): Promise<string[]> {
  const packs = join(dir, 'packs')
  const subdirs = await readdir(packs, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  const names: string[] = []
  for (const sub of subdirs) {
    if (!sub.isDirectory() || !/^[0-9a-f]{2}$/.test(sub.name)) continue
    for (const file of await readdir(join(packs, sub.name))) {
      if (PACK_FILE_NAME.test(file) && file.startsWith(sub.name)) names.push(file.slice(0, -'.pack'.length))
    }
  }
  return names
}

export function newPackName (): string {
  return randomBytes(16).toString('hex')
}

export function entryHeader (hash: Uint8Array, sealedLength: number): Buffer {
  const header = Buffer.allocUnsafe(ENTRY_HEADER_BYTES)
  header.set(hash, 0)
  header.writeUInt32BE(sealedLength, 32)
  return header
}

/** A pack open for appending: `end` is where the next entry goes. */
export interface PackAppender {
  id: number
  name: string
  file: FileHandle
  end: number
  /** Its directory entry is not yet durable: fsync the directories before indexing it. */
  newDirs: string[]
}

/** Creates an empty pack (the magic only, not yet fsynced). */
export async function createPack (dir: string, id: number, name: string): Promise<PackAppender> {
  const packs = join(dir, 'packs')
  const sub = join(packs, name.slice(0, 2))
  const made = await mkdir(sub, { recursive: true })
  const file = await open(join(dir, packLabel(name)), 'wx', 0o600)
  try {
    await writeAll(file, [PACK_MAGIC], 0)
  } catch (err) {
    await file.close()
    throw err
  }
  // A new subdirectory's own entry lives in packs/.
  return { id, name, file, end: PACK_MAGIC.byteLength, newDirs: made === undefined ? [sub] : [sub, packs] }
}

/** Reopens a pack to append after `size`, or undefined when its file is not exactly that long (a crash left a tail). */
export async function reopenPack (dir: string, pack: { id: number, name: string, size: number }): Promise<PackAppender | undefined> {
  let file: FileHandle
  try {
    file = await open(join(dir, packLabel(pack.name)), 'r+')
  } catch {
    return undefined
  }
  if ((await file.stat()).size !== pack.size) {
    await file.close()
    return undefined
  }
  return { id: pack.id, name: pack.name, file, end: pack.size, newDirs: [] }
}
