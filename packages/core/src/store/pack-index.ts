import { DatabaseSync } from 'node:sqlite'
import { NotConfiguredError, StoreDamagedError } from '../errors.ts'
import { inTransaction, migrateSchema } from '../util/sqlite-schema.ts'
import { ENTRY_HEADER_BYTES } from './pack-files.ts'
import type { ChunkStoreStats } from './chunk-store.ts'

/**
 * The pack store's index (node:sqlite): where each chunk lies (pack, offset, sealed length)
 * and how big it is, plus per-pack totals so stats() need not count every chunk.
 * A row is written only after the bytes it points at are fsynced (pack-store.ts).
 */
export interface PackIndex {
  /** The chunk's place, or undefined when it is not stored. */
  find (hash: Uint8Array): ChunkPlace | undefined
  /** `damaged`: indexed, but found damaged since; a put of a good copy replaces it. */
  state (hash: Uint8Array): 'stored' | 'damaged' | undefined
  /** Marks the chunk damaged if the index still points at this place (a good copy may have replaced it meanwhile); whether it did. */
  markDamaged (place: ChunkPlace, reason: string): boolean
  clearDamaged (hash: Uint8Array): void
  /** The hex ids of the chunks marked damaged. */
  damaged (): Set<string>
  /** Every pack, oldest first. */
  packs (): PackRecord[]
  /** A pack's chunks in the order they lie in the file. */
  chunksIn (pack: number): ChunkPlace[]
  /** Records what one group commit wrote, in one transaction; a chunk that `replaces` a damaged copy takes its place. */
  record (commit: { packs: PackRecord[], chunks: Array<ChunkPlace & { replaces: boolean }> }): void
  stats (): ChunkStoreStats
  /** Every chunk's place, for a collection's sweep (read in one go: callers must not write meanwhile). */
  places (): ChunkPlace[]
  /** Forgets these chunks (they then read as absent) in one transaction; their bytes stay in their packs until compaction. */
  drop (places: ChunkPlace[]): void
  /** Live sealed bytes (with entry headers) per pack id. */
  liveBytes (): Map<number, number>
  /**
   * Points chunks at their copies in `to` (added if new), in one transaction; a chunk whose row
   * no longer names the place it was copied from is left alone. Returns how many moved.
   */
  relocate (to: PackRecord, isNew: boolean, moves: Array<{ from: ChunkPlace, at: number }>): number
  /** Removes an empty pack's row; whether it did (it does nothing while a chunk still lies there). */
  dropPack (id: number): boolean
  meta (name: string): Uint8Array | undefined
  setMeta (name: string, value: Uint8Array): void
  close (): void
}

export interface PackRecord {
  id: number
  name: string
  /** End of the last indexed chunk: bytes past it in the file are not the store's. */
  size: number
}

export interface ChunkPlace {
  hash: Uint8Array
  pack: number
  /** Offset of the sealed chunk (after its entry header) in the pack file. */
  at: number
  /** Sealed length: nonce, ciphertext and tag. */
  length: number
  /** Plain size. */
  size: number
}

/** The index's file in the store's directory. */
export const INDEX_FILE = 'chunks.db'

const SCHEMA_VERSION = 1
const SQLITE_BUSY = 5
const SQLITE_CORRUPT = 11
const SQLITE_NOTADB = 26
/** What to do about an index that is lost or damaged: the packs hold everything it said. */
export const REBUILD_HINT = 'rebuild it from the packs with `aerie-server store rebuild-index` while the server is stopped (nothing in the packs is changed)'
const SCHEMA = `
  CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
  CREATE TABLE packs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    plain_bytes INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE chunks (
    hash BLOB PRIMARY KEY,
    pack INTEGER NOT NULL REFERENCES packs (id),
    at INTEGER NOT NULL,
    length INTEGER NOT NULL,
    size INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX chunks_by_place ON chunks (pack, at);
  CREATE TABLE damaged (hash BLOB PRIMARY KEY, reason TEXT NOT NULL, found_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
`

/**
 * Opens (creating if needed) the index. It is held exclusively (SQLite's exclusive locking
 * mode) for as long as it is open: two processes appending to the same packs would corrupt
 * them, so a second one is refused.
 */
export function openPackIndex (path: string): PackIndex {
  const db = new DatabaseSync(path)
  try {
    db.exec('PRAGMA busy_timeout = 1000')
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec('PRAGMA journal_mode = WAL')
    // FULL: a commit is on disk when it returns, which put() promises its callers.
    db.exec('PRAGMA synchronous = FULL')
    db.exec('BEGIN IMMEDIATE; COMMIT') // takes the exclusive lock now, not at the first put
    migrateSchema(db, { schema: SCHEMA, version: SCHEMA_VERSION, what: 'chunk store index' })
  } catch (err) {
    db.close()
    const code = (err as { errcode?: number }).errcode
    if (code === SQLITE_BUSY) throw new NotConfiguredError(`the chunk store index ${path} is in use by another process; stop the other team server using this directory, or give this one its own`, { cause: err })
    if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) throw new StoreDamagedError(`the chunk store index ${path} is damaged (${(err as Error).message}): ${REBUILD_HINT}`, { cause: err })
    throw err
  }

  const statements = {
    find: db.prepare('SELECT pack, at, length, size FROM chunks WHERE hash = ?'),
    state: db.prepare('SELECT EXISTS (SELECT 1 FROM damaged WHERE hash = chunks.hash) AS damaged FROM chunks WHERE hash = ?'),
    markDamaged: db.prepare(`INSERT INTO damaged (hash, reason, found_at) SELECT hash, ?, ? FROM chunks WHERE hash = ? AND pack = ? AND at = ?
      ON CONFLICT (hash) DO UPDATE SET reason = excluded.reason`),
    clearDamaged: db.prepare('DELETE FROM damaged WHERE hash = ?'),
    damaged: db.prepare('SELECT hash FROM damaged'),
    shrinkPack: db.prepare('UPDATE packs SET chunks = chunks - 1, plain_bytes = plain_bytes - ? WHERE id = ?'),
    replaceChunk: db.prepare('UPDATE chunks SET pack = ?, at = ?, length = ?, size = ? WHERE hash = ?'),
    packs: db.prepare('SELECT id, name, size FROM packs ORDER BY id'),
    chunksIn: db.prepare('SELECT hash, at, length, size FROM chunks WHERE pack = ? ORDER BY at'),
    addPack: db.prepare('INSERT INTO packs (id, name, size, chunks, plain_bytes) VALUES (?, ?, 0, 0, 0)'),
    addChunk: db.prepare('INSERT INTO chunks (hash, pack, at, length, size) VALUES (?, ?, ?, ?, ?)'),
    growPack: db.prepare('UPDATE packs SET chunks = chunks + ?, plain_bytes = plain_bytes + ?, size = max(size, ?) WHERE id = ?'),
    stats: db.prepare('SELECT count(*) AS packs, sum(chunks) AS chunks, sum(plain_bytes) AS plain, sum(size) AS size FROM packs'),
    places: db.prepare('SELECT hash, pack, at, length, size FROM chunks'),
    dropChunk: db.prepare('DELETE FROM chunks WHERE hash = ? AND pack = ? AND at = ?'),
    liveBytes: db.prepare('SELECT pack, sum(length) + count(*) * ? AS bytes FROM chunks GROUP BY pack'),
    moveChunk: db.prepare('UPDATE chunks SET pack = ?, at = ? WHERE hash = ? AND pack = ? AND at = ?'),
    dropPack: db.prepare('DELETE FROM packs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM chunks WHERE pack = ?)'),
    meta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value')
  }

  const index: PackIndex = {
    find (hash) {
      const row = statements.find.get(hash)
      if (row === undefined) return undefined
      return { hash, pack: Number(row.pack), at: Number(row.at), length: Number(row.length), size: Number(row.size) }
    },

    state (hash) {
      const row = statements.state.get(hash)
      if (row === undefined) return undefined
      return Number(row.damaged) === 1 ? 'damaged' : 'stored'
    },

    markDamaged (place, reason) {
      return Number(statements.markDamaged.run(reason, Date.now(), place.hash, place.pack, place.at).changes) === 1
    },

    clearDamaged (hash) {
      statements.clearDamaged.run(hash)
    },

    damaged () {
      return new Set(statements.damaged.all().map(row => Buffer.from(row.hash as Uint8Array).toString('hex')))
    },

    packs () {
      return statements.packs.all().map(row => ({ id: Number(row.id), name: String(row.name), size: Number(row.size) }))
    },

    chunksIn (pack) {
      return statements.chunksIn.all(pack).map(row => ({
        hash: row.hash as Uint8Array, pack, at: Number(row.at), length: Number(row.length), size: Number(row.size)
      }))
    },

    record ({ packs, chunks }) {
      inTransaction(db, () => {
        for (const pack of packs) statements.addPack.run(pack.id, pack.name)
        // One update per pack, not per chunk: a commit holds hundreds of chunks of few packs.
        const growth = new Map<number, { chunks: number, plain: number, end: number }>()
        for (const chunk of chunks) {
          const old = chunk.replaces ? index.find(chunk.hash) : undefined
          if (old === undefined) {
            statements.addChunk.run(chunk.hash, chunk.pack, chunk.at, chunk.length, chunk.size)
          } else {
            // The damaged copy's bytes stay where they are, but no longer count as stored.
            statements.shrinkPack.run(old.size, old.pack)
            statements.replaceChunk.run(chunk.pack, chunk.at, chunk.length, chunk.size, chunk.hash)
            statements.clearDamaged.run(chunk.hash)
          }
          const grown = growth.get(chunk.pack) ?? { chunks: 0, plain: 0, end: 0 }
          grown.chunks++
          grown.plain += chunk.size
          grown.end = Math.max(grown.end, chunk.at + chunk.length)
          growth.set(chunk.pack, grown)
        }
        for (const [pack, grown] of growth) statements.growPack.run(grown.chunks, grown.plain, grown.end, pack)
      })
    },

    stats () {
      const row = statements.stats.get()
      return { chunks: Number(row?.chunks ?? 0), uniqueBytes: Number(row?.plain ?? 0), storedBytes: Number(row?.size ?? 0) }
    },

    places () {
      return statements.places.all().map(row => ({
        hash: row.hash as Uint8Array, pack: Number(row.pack), at: Number(row.at), length: Number(row.length), size: Number(row.size)
      }))
    },

    drop (places) {
      inTransaction(db, () => {
        for (const place of places) {
          if (Number(statements.dropChunk.run(place.hash, place.pack, place.at).changes) !== 1) continue
          statements.shrinkPack.run(place.size, place.pack)
          statements.clearDamaged.run(place.hash)
        }
      })
    },

    liveBytes () {
      return new Map(statements.liveBytes.all(ENTRY_HEADER_BYTES).map(row => [Number(row.pack), Number(row.bytes)]))
    },

    relocate (to, isNew, moves) {
      let moved = 0
      inTransaction(db, () => {
        if (isNew) statements.addPack.run(to.id, to.name)
        let plain = 0
        let end = 0
        for (const { from, at } of moves) {
          if (Number(statements.moveChunk.run(to.id, at, from.hash, from.pack, from.at).changes) !== 1) continue
          statements.shrinkPack.run(from.size, from.pack)
          moved++
          plain += from.size
          end = Math.max(end, at + from.length)
        }
        statements.growPack.run(moved, plain, Math.max(end, to.size), to.id)
      })
      return moved
    },

    dropPack (id) {
      return Number(statements.dropPack.run(id, id).changes) === 1
    },

    meta (name) {
      const row = statements.meta.get(name)
      return row === undefined ? undefined : row.value as Uint8Array
    },

    setMeta (name, value) {
      statements.setMeta.run(name, value)
    },

    close () {
      if (db.isOpen) db.close()
    }
  }
  return index
}
