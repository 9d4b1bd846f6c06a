import { open, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isChunk } from '../chunking/chunk-id.ts'
import { InvalidKeyError, NotConfiguredError } from '../errors.ts'
import { syncDirectory } from '../util/durable-io.ts'
import { readFully } from '../util/read-fully.ts'
import { releaseBytes } from '../util/release-bytes.ts'
import { decompressUnknownSize } from './chunk-compression.ts'
import { assertDataKey, openBlob, SEAL_OVERHEAD } from './data-key.ts'
import { ENTRY_HEADER_BYTES, listPackFiles, MAX_CHUNK_BYTES, PACK_MAGIC, packLabel } from './pack-files.ts'
import { INDEX_FILE, openPackIndex } from './pack-index.ts'
import { checkKey } from './pack-store.ts'
import type { KeyObject } from 'node:crypto'
import type { ChunkPlace, PackIndex } from './pack-index.ts'

export interface RebuildOptions {
  /** The store's directory (`chunks.db` and `packs/`). No process may have the store open. */
  dir: string
  dataKey: KeyObject
  onProgress?(progress: { packs: number, totalPacks: number, bytes: number, totalBytes: number }): void
}

export interface RebuildReport {
  /** Pack files read. */
  packs: number
  /** Chunks indexed. */
  chunks: number
  /** Their plain bytes. */
  bytes: number
  /** Further copies of a chunk already indexed (a copy kept by compaction, a damaged one's replacement): left for the next compaction. */
  duplicates: number
  /** Stretches of pack bytes that did not authenticate: the chunks in them are not indexed (devices send them again). */
  damaged: Array<{ pack: string, at: number, bytes: number }>
  /** Unfinished writes at the end of a pack (a crash between write and index): not the store's, as before. */
  tails: number
  /** Pack files with bytes but no chunk that authenticates: left where they are, not indexed. */
  unreadable: string[]
  /** Where the index that was replaced now is, if there was one. */
  replaced?: string
}

/** Longest sealed entry a pack can hold. */
const MAX_SEALED = MAX_CHUNK_BYTES + SEAL_OVERHEAD
/** Entry headers in a row that must look right before a stretch past damage is tried as an entry (random bytes pass one in 256). */
const RESYNC_LINKS = 3

/**
 * Rebuilds a pack store's index from its packs alone (the index lost, or damaged beyond
 * opening). Every entry is read and authenticated under the data key (the seal binds it to the
 * hash in its header) and hashed, so only whole, genuine chunks are indexed; a stretch that
 * does not authenticate is skipped to the next entry that does, and reported.
 *
 * Never lose data: the new index is written beside the old one and only then takes its place;
 * the old one is kept, renamed, and no pack byte is changed or removed. The store must be
 * closed: while the old index opens, it is held (as the store holds it) for the whole rebuild.
 */
export async function rebuildPackIndex (options: RebuildOptions): Promise<RebuildReport> {
  const { dir, dataKey } = options
  assertDataKey(dataKey)
  if (!await stat(join(dir, 'packs')).then(s => s.isDirectory(), () => false)) throw new NotConfiguredError(`there is no chunk store in ${dir} (no packs/ directory): nothing to rebuild`)
  const indexPath = join(dir, INDEX_FILE)
  const building = `${indexPath}.rebuilding`
  const old = await holdOldIndex(indexPath)
  const report: RebuildReport = { packs: 0, chunks: 0, bytes: 0, duplicates: 0, damaged: [], tails: 0, unreadable: [] }
  let index: PackIndex | undefined
  try {
    // A wrong key would read every pack as damage: when the old index still opens, its key check says so up front.
    if (old !== undefined) {
      try {
        checkKey(old, dataKey, dir)
      } catch (err) {
        if (err instanceof InvalidKeyError) throw err
      }
    }
    const files = await packsOldestFirst(dir)
    const totalBytes = files.reduce((sum, f) => sum + f.size, 0)
    await removeDatabase(building)
    index = openPackIndex(building)
    let bytesRead = 0
    let tried = false
    // One buffer for every pack in turn (fresh memory for each costs as much as the reading).
    let buffer = Buffer.allocUnsafe(0)
    for (const [i, file] of files.entries()) {
      if (buffer.byteLength < file.size) buffer = Buffer.allocUnsafe(file.size)
      const bytes = await readWhole(join(dir, file.label), buffer)
      const found = readPack(bytes, dataKey)
      tried ||= found.tried
      bytesRead += bytes.byteLength
      if (found.entries.length === 0) {
        // Nothing but the magic (a pack made just before a crash) is no loss.
        if (found.damaged.length > 0 || found.tail) report.unreadable.push(file.label)
      } else {
        const id = report.packs + 1
        const seen = new Set<string>()
        const chunks: Array<ChunkPlace & { replaces: false }> = []
        for (const entry of found.entries) {
          const key = Buffer.from(entry.hash).toString('hex')
          if (seen.has(key) || index.find(entry.hash) !== undefined) { report.duplicates++; continue }
          seen.add(key)
          chunks.push({ ...entry, pack: id, replaces: false })
          report.bytes += entry.size
        }
        index.record({ packs: [{ id, name: file.name, size: 0 }], chunks })
        report.packs++
        report.chunks += chunks.length
      }
      for (const stretch of found.damaged) report.damaged.push({ pack: file.label, ...stretch })
      report.tails += found.tail ? 1 : 0
      options.onProgress?.({ packs: i + 1, totalPacks: files.length, bytes: bytesRead, totalBytes })
    }
    if (report.chunks === 0 && tried) {
      throw new InvalidKeyError(`no chunk in ${dir} authenticates under this data key, so nothing was changed: the store belongs to another server (check --data and the keys it holds), or every pack is damaged`)
    }
    checkKey(index, dataKey, dir)
    index.close()
    index = undefined
    await syncFile(building)
    old?.close()
    // The old index (and its log) stays, under a name that says when it was replaced.
    const replaced = `${indexPath}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`
    for (const suffix of ['', '-wal']) {
      await rename(indexPath + suffix, replaced + suffix).then(() => { if (suffix === '') report.replaced = replaced }, ignoreMissing)
    }
    await rename(building, indexPath)
    await syncDirectory(dir)
    return report
  } finally {
    index?.close()
    old?.close()
    await removeDatabase(building).catch(() => {})
  }
}

/** The old index opened and held, so that no store opens it meanwhile; undefined when it is missing or does not open. */
async function holdOldIndex (path: string): Promise<PackIndex | undefined> {
  if (!await stat(path).then(() => true, () => false)) return undefined
  try {
    return openPackIndex(path)
  } catch (err) {
    // In use: a running store. Anything else: the damage this rebuild is for.
    if (err instanceof NotConfiguredError) throw err
    return undefined
  }
}

/** Pack files, the last written last: the store appends to the newest one after the rebuild. */
async function packsOldestFirst (dir: string): Promise<Array<{ name: string, label: string, size: number, mtimeMs: number }>> {
  const files = await Promise.all((await listPackFiles(dir)).map(async name => {
    const label = packLabel(name)
    const { size, mtimeMs } = await stat(join(dir, label))
    return { name, label, size, mtimeMs }
  }))
  return files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name))
}

interface PackEntry { hash: Uint8Array, at: number, length: number, size: number }

/**
 * A pack's entries that authenticate, in file order. Past a stretch that does not, the next
 * entry is found by its header (RESYNC_LINKS plausible headers in a row, or to the end) and
 * its seal. `tried`: some entry was tried at all (a file of random bytes has none that fit).
 */
function readPack (bytes: Buffer, dataKey: KeyObject): { entries: PackEntry[], damaged: Array<{ at: number, bytes: number }>, tail: boolean, tried: boolean } {
  const found = { entries: [] as PackEntry[], damaged: [] as Array<{ at: number, bytes: number }>, tail: false, tried: false }
  if (bytes.byteLength < PACK_MAGIC.byteLength || !bytes.subarray(0, PACK_MAGIC.byteLength).equals(PACK_MAGIC)) {
    found.damaged.push({ at: 0, bytes: bytes.byteLength })
    return found
  }
  const entryAt = (at: number): PackEntry | undefined => {
    const length = sealedLengthAt(bytes, at)
    if (length === undefined || at + ENTRY_HEADER_BYTES + length > bytes.byteLength) return undefined
    found.tried = true
    return authenticate(bytes, at, length, dataKey)
  }
  let at = PACK_MAGIC.byteLength
  // Bounded: every turn moves `at` forward, or ends.
  while (at < bytes.byteLength) {
    const entry = entryAt(at)
    if (entry !== undefined) {
      found.entries.push(entry)
      at = entry.at + entry.length
      continue
    }
    let next = at + 1
    while (next < bytes.byteLength && !(looksLikeEntries(bytes, next, RESYNC_LINKS) && entryAt(next) !== undefined)) next++
    if (next >= bytes.byteLength && isTail(bytes, at)) found.tail = true
    else found.damaged.push({ at, bytes: next - at })
    at = next
  }
  return found
}

/** The sealed length in the entry header at `at`, when one fits there and the length could be one. */
function sealedLengthAt (bytes: Buffer, at: number): number | undefined {
  if (at + ENTRY_HEADER_BYTES > bytes.byteLength) return undefined
  const length = bytes.readUInt32BE(at + 32)
  return length >= SEAL_OVERHEAD && length <= MAX_SEALED ? length : undefined
}

/** `links` entry headers in a row from `at` whose lengths could be real, the last running to (or past) the end. */
function looksLikeEntries (bytes: Buffer, at: number, links: number): boolean {
  const length = sealedLengthAt(bytes, at)
  if (length === undefined) return false
  const next = at + ENTRY_HEADER_BYTES + length
  if (links === 1 || next + ENTRY_HEADER_BYTES > bytes.byteLength) return true
  return looksLikeEntries(bytes, next, links - 1)
}

/** What an unfinished append leaves: less than a header, or a header whose entry runs past the end. */
function isTail (bytes: Buffer, at: number): boolean {
  const length = sealedLengthAt(bytes, at)
  return at + ENTRY_HEADER_BYTES > bytes.byteLength || (length !== undefined && at + ENTRY_HEADER_BYTES + length > bytes.byteLength)
}

/** The entry at `at` when its seal opens under its header's hash and what it holds is that chunk (kept plain or compressed). */
function authenticate (bytes: Buffer, at: number, length: number, dataKey: KeyObject): PackEntry | undefined {
  const hash = bytes.subarray(at, at + 32)
  const sealedAt = at + ENTRY_HEADER_BYTES
  let stored: Buffer
  try {
    stored = openBlob(dataKey, bytes.subarray(sealedAt, sealedAt + length), hash)
  } catch {
    return undefined
  }
  // Only the size is kept: the bytes go at once, not at V8's next full collection.
  let size: number | undefined
  if (isChunk(stored, hash)) {
    size = stored.byteLength
  } else {
    const plain = decompressUnknownSize(stored, MAX_CHUNK_BYTES)
    if (plain !== undefined && plain.byteLength > stored.byteLength && isChunk(plain, hash)) size = plain.byteLength
    if (plain !== undefined) releaseBytes(plain)
  }
  releaseBytes(stored)
  return size === undefined ? undefined : { hash, at: sealedAt, length, size }
}

/** The file's bytes, read into `buffer` (as long as the file was when listed; a pack only grows while a store appends, and none does now). */
async function readWhole (path: string, buffer: Buffer): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    return buffer.subarray(0, await readFully(file, buffer, 0, buffer.byteLength, 0))
  } finally {
    await file.close()
  }
}

async function syncFile (path: string): Promise<void> {
  const file = await open(path, 'r+')
  try { await file.sync() } finally { await file.close() }
}

/** A SQLite database and the files beside it. */
async function removeDatabase (path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(path + suffix, { force: true })
}

function ignoreMissing (err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err
}
