import { chunkId, chunkIdHex, isChunk } from '../chunking/chunk-id.ts'
import { ProtocolError, StoreDamagedError } from '../errors.ts'
import type { StoredChunk } from '../store/chunk-streams.ts'

/**
 * The snapshot model: a snapshot's content is a tree of directory objects. A directory object
 * lists its entries (name, type, mode, mtime, size; a file's chunks, a subdirectory's object id,
 * a symlink's target) in a canonical JSON form, and is stored in the chunk store as a blob whose
 * id is its SHA-256, like any chunk: a directory whose entries did not change has the same id,
 * so it is stored once, whichever snapshot or device it is in.
 *
 * A file of up to INLINE_CHUNKS chunks carries its chunk list in its entry; a larger one carries
 * the ids of chunk-list blobs (LIST_CHUNKS chunks each), so directory objects stay small.
 */
export type EntryType = 'file' | 'dir' | 'symlink'

export interface TreeEntry {
  name: string
  type: EntryType
  /** Permission bits (mode & 0o7777). */
  mode: number
  mtimeMs: number
  /** Bytes of a file; 0 for the others. */
  size: number
  /** A file's chunks, when it has at most INLINE_CHUNKS. */
  chunks?: StoredChunk[]
  /** A larger file's chunk-list blobs, in order. */
  lists?: Uint8Array[]
  /** A directory's object id. */
  tree?: Uint8Array
  /** A symlink's target. */
  target?: string
  /** The file changed while it was read, twice: its content is what the last read saw. */
  changed?: boolean
}

/** Where a snapshot's blobs (directory objects, chunk lists, chunks) are read from: a store, or the team server. */
export interface BlobSource {
  /**
   * The blob's bytes, or undefined when the source does not have it. Callers verify. Bytes the
   * source keeps no use for: a restore frees a chunk once it is written (releaseBytes).
   */
  get(hash: Uint8Array): Promise<Uint8Array | undefined>
}

export const INLINE_CHUNKS = 64
export const LIST_CHUNKS = 8192
/** The largest directory object (the chunk store's own limit): about 50,000 entries of small files. */
export const MAX_TREE_BYTES = 16 * 1024 * 1024
const CHUNK_RECORD = 36
const MAX_NAME = 1024

/** The object's bytes and id; entries are sorted by name here, so equal directories give equal bytes. */
export function encodeTree (entries: readonly TreeEntry[]): { id: Uint8Array, bytes: Uint8Array } {
  const sorted = [...entries].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  // Fixed key order: JSON.stringify keeps insertion order.
  const wire = sorted.map(e => ({
    name: e.name,
    type: e.type,
    mode: e.mode,
    mtimeMs: e.mtimeMs,
    size: e.size,
    ...(e.chunks === undefined ? {} : { chunks: Buffer.from(encodeChunkList(e.chunks)).toString('base64') }),
    ...(e.lists === undefined ? {} : { lists: e.lists.map(chunkIdHex) }),
    ...(e.tree === undefined ? {} : { tree: chunkIdHex(e.tree) }),
    ...(e.target === undefined ? {} : { target: e.target }),
    ...(e.changed === true ? { changed: true } : {})
  }))
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, entries: wire }))
  return { id: chunkId(bytes), bytes }
}

/** Parses a directory object, refusing anything that could not have come from encodeTree (names with '/', '..'). */
export function decodeTree (bytes: Uint8Array): TreeEntry[] {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw bad('not JSON')
  }
  const d = doc as { v?: unknown, entries?: unknown }
  if (typeof d !== 'object' || d === null || d.v !== 1 || !Array.isArray(d.entries)) throw bad('not a version 1 directory object')
  const seen = new Set<string>()
  return d.entries.map((input: unknown) => {
    const w = input as Record<string, unknown>
    if (typeof w !== 'object' || w === null) throw bad('an entry is not an object')
    const { name, type, mode, mtimeMs, size } = w
    if (typeof name !== 'string' || !isEntryName(name) || seen.has(name)) throw bad(`bad or repeated name ${JSON.stringify(String(name)).slice(0, 80)}`)
    seen.add(name)
    if (type !== 'file' && type !== 'dir' && type !== 'symlink') throw bad(`${name}: unknown type`)
    if (!Number.isSafeInteger(mode) || (mode as number) < 0 || (mode as number) > 0o7777) throw bad(`${name}: bad mode`)
    if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs)) throw bad(`${name}: bad mtime`)
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw bad(`${name}: bad size`)
    const entry: TreeEntry = { name, type, mode: mode as number, mtimeMs, size: size as number }
    if (type === 'file') {
      if (typeof w.chunks === 'string') entry.chunks = decodeChunkList(new Uint8Array(Buffer.from(w.chunks, 'base64')))
      else if (Array.isArray(w.lists) && w.lists.every(isHexId)) entry.lists = (w.lists as string[]).map(hexId)
      else throw bad(`${name}: a file without chunks`)
      if (w.changed === true) entry.changed = true
    } else if (type === 'dir') {
      if (!isHexId(w.tree)) throw bad(`${name}: a directory without its object`)
      entry.tree = hexId(w.tree as string)
    } else {
      if (typeof w.target !== 'string' || w.target === '' || w.target.length > 4096) throw bad(`${name}: a symlink without a target`)
      entry.target = w.target
    }
    return entry
  })
}

/** A file entry's chunks, fetching its chunk lists when it has them; every blob is verified. */
export async function fileChunks (source: BlobSource, entry: TreeEntry): Promise<StoredChunk[]> {
  if (entry.chunks !== undefined) return entry.chunks
  const chunks: StoredChunk[] = []
  for (const id of entry.lists ?? []) chunks.push(...decodeChunkList(await getVerified(source, id, 'chunk list')))
  return chunks
}

/** Splits a file's chunks the way its entry holds them: inline, or as list blobs to store. */
export function chunkListsOf (chunks: readonly StoredChunk[]): { chunks: StoredChunk[] } | { lists: Array<{ id: Uint8Array, bytes: Uint8Array }> } {
  if (chunks.length <= INLINE_CHUNKS) return { chunks: [...chunks] }
  const lists = []
  for (let i = 0; i < chunks.length; i += LIST_CHUNKS) {
    const bytes = encodeChunkList(chunks.slice(i, i + LIST_CHUNKS))
    lists.push({ id: chunkId(bytes), bytes })
  }
  return { lists }
}

export async function readTree (source: BlobSource, id: Uint8Array): Promise<TreeEntry[]> {
  return decodeTree(await getVerified(source, id, 'directory object'))
}

/** A blob from the source, checked against its id: a source can lose a blob or hand back damage, never pass it off. */
export async function getVerified (source: BlobSource, id: Uint8Array, what = 'chunk'): Promise<Uint8Array> {
  const bytes = await source.get(id)
  if (bytes === undefined) throw new StoreDamagedError(`${what} ${chunkIdHex(id).slice(0, 16)}… is missing from the repository`)
  if (!isChunk(bytes, id)) throw new StoreDamagedError(`${what} ${chunkIdHex(id).slice(0, 16)}… is damaged (its SHA-256 does not match)`)
  return bytes
}

/** Every id a directory object refers to, by kind: what a reader may fetch next. */
export function referencesOf (entries: readonly TreeEntry[]): { trees: Uint8Array[], lists: Uint8Array[], chunks: Uint8Array[] } {
  const refs = { trees: [] as Uint8Array[], lists: [] as Uint8Array[], chunks: [] as Uint8Array[] }
  for (const e of entries) {
    if (e.tree !== undefined) refs.trees.push(e.tree)
    if (e.lists !== undefined) refs.lists.push(...e.lists)
    if (e.chunks !== undefined) refs.chunks.push(...e.chunks.map(c => c.hash))
  }
  return refs
}

/**
 * Every directory object under `root` (root included), breadth first and each once, with the
 * ids it refers to. `read` fetches a directory object and says in its own words what is wrong
 * when it cannot, or gives undefined to go on without it (it is yielded with no references,
 * so nothing below it is walked); `skip` leaves out a directory (and all below it) the caller
 * already knows.
 */
export async function * walkDirectories (
  root: Uint8Array,
  read: (id: Uint8Array) => Promise<Uint8Array | undefined>,
  skip: (key: string) => boolean = () => false
): AsyncGenerator<{ key: string, refs: ReturnType<typeof referencesOf> }> {
  const seen = new Set<string>()
  let queue = [root]
  while (queue.length > 0) {
    const next: Uint8Array[] = []
    for (const id of queue) {
      const key = chunkIdHex(id)
      if (seen.has(key) || skip(key)) continue
      seen.add(key)
      const bytes = await read(id)
      const refs = referencesOf(bytes === undefined ? [] : decodeTree(bytes))
      yield { key, refs }
      next.push(...refs.trees)
    }
    queue = next
  }
}

/** A chunk list blob: 32-byte id and 4-byte big-endian size per chunk. */
export function encodeChunkList (chunks: readonly StoredChunk[]): Uint8Array {
  const out = Buffer.alloc(chunks.length * CHUNK_RECORD)
  chunks.forEach((c, i) => {
    out.set(c.hash, i * CHUNK_RECORD)
    out.writeUInt32BE(c.size, i * CHUNK_RECORD + 32)
  })
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

export function decodeChunkList (bytes: Uint8Array): StoredChunk[] {
  if (bytes.byteLength % CHUNK_RECORD !== 0) throw bad('a chunk list is cut short')
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const chunks: StoredChunk[] = []
  for (let at = 0; at < buf.byteLength; at += CHUNK_RECORD) {
    const size = buf.readUInt32BE(at + 32)
    if (size === 0) throw bad('a chunk of 0 bytes')
    chunks.push({ hash: Uint8Array.prototype.slice.call(bytes, at, at + 32), size })
  }
  return chunks
}

/** A name one directory can hold on every system Aerie restores to. */
export function isEntryName (name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && name.length <= MAX_NAME && !name.includes('/') && !name.includes('\0')
}

function isHexId (value: unknown): boolean {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
}

function hexId (hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

function bad (problem: string): ProtocolError {
  return new ProtocolError(`bad directory object: ${problem}`)
}
