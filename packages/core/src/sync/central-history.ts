import { DatabaseSync } from 'node:sqlite'
import { encodeChunks, decodeChunks } from '../index/record-codec.ts'
import { inTransaction, migrateSchema } from '../util/sqlite-schema.ts'
import { InvalidInputError } from '../errors.ts'
import { openBlob, sealBlob } from '../store/index.ts'
import type { KeyObject } from 'node:crypto'
import type { FileRecord } from '../index/index.ts'
import type { RetentionPolicy } from './version-history.ts'

/**
 * The version history of a central copy: every file version the team server held before a
 * newer one (or a deletion) replaced it, whoever made it. Only records are kept here; their
 * chunks stay in the chunk store, so a version costs the bytes that changed. Each record (its
 * size, times, version vector and chunk list) is sealed with the data key (AES-256-GCM, bound
 * to its folder and path); the path, when it was replaced and by whom stay readable, as
 * retention and look-ups need them.
 */
export interface CentralVersion {
  folder: string
  path: string
  record: FileRecord
  /** When the central copy replaced it, and the device whose change replaced it. */
  replacedAt: Date
  replacedBy: string
}

export interface CentralHistory {
  add (folder: string, record: FileRecord, replacedBy: string, at?: Date): void
  /** add() for many versions in one transaction (a pull's batch): one commit, not one per file. */
  addMany (folder: string, versions: ReadonlyArray<{ record: FileRecord, replacedBy: string }>, at?: Date): void
  /** Versions of a path, or of every path under a directory (prefix), newest first. */
  list (folder: string, path: string): CentralVersion[]
  /** Every kept version of every folder, without list's limit: what a collection or a scrub must see. */
  all (): Iterable<CentralVersion>
  /** The folder's retention policy (the central default unless an admin set one). */
  retention (folder: string): RetentionPolicy
  setRetention (folder: string, policy: RetentionPolicy): void
  /** Drops what every folder's policy no longer keeps; returns how many versions went. */
  prune (now?: Date): number
  close (): void
}

/** The central copy keeps more than a laptop does: it has the room, and it is the place of last resort. */
export const CENTRAL_RETENTION: RetentionPolicy = { keepVersions: 30, maxAgeDays: 90 }
const DAY_MS = 86_400_000

const VERSIONS_TABLE = `
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    folder TEXT NOT NULL,
    path TEXT NOT NULL,
    sealed BLOB NOT NULL,
    replaced_at INTEGER NOT NULL,
    replaced_by TEXT NOT NULL
  ) STRICT;
  CREATE INDEX versions_by_path ON versions (folder, path, replaced_at);
`
const SCHEMA = `${VERSIONS_TABLE}
  CREATE TABLE retention (folder TEXT PRIMARY KEY, keep_versions INTEGER NOT NULL, max_age_days INTEGER NOT NULL) STRICT;
`
const SCHEMA_VERSION = 2

/** A record's sealed form: its JSON (without chunks), then its chunk list, bound to where it belongs. */
function seal (key: KeyObject, folder: string, record: FileRecord): Uint8Array {
  const { chunks, ...rest } = record
  const json = Buffer.from(JSON.stringify(rest))
  const head = Buffer.alloc(4)
  head.writeUInt32BE(json.byteLength)
  return sealBlob(key, Buffer.concat([head, json, encodeChunks(chunks)]), placeOf(folder, record.path))
}

function unseal (key: KeyObject, folder: string, path: string, sealed: Uint8Array): FileRecord {
  const plain = openBlob(key, sealed, placeOf(folder, path))
  const length = plain.readUInt32BE(0)
  // (A plain Uint8Array view, so the chunk hashes come out as Uint8Arrays, not Buffers.)
  const list = new Uint8Array(plain.buffer, plain.byteOffset + 4 + length, plain.byteLength - 4 - length)
  return { ...JSON.parse(plain.subarray(4, 4 + length).toString()) as Omit<FileRecord, 'chunks'>, chunks: decodeChunks(list) }
}

const placeOf = (folder: string, path: string): string => `aerie central history\0${folder}\0${path}`

/**
 * Version 1 kept records in the clear (columns `record` and `chunks`): seal them, in one
 * transaction, so an interrupted upgrade leaves version 1 as it was.
 */
function upgrade (db: DatabaseSync, key: KeyObject): void {
  inTransaction(db, () => {
    if (Number(db.prepare('PRAGMA user_version').get()?.user_version) === 1) {
      const old = db.prepare('SELECT id, folder, path, record, chunks, replaced_at, replaced_by FROM versions').all()
      db.exec(`ALTER TABLE versions RENAME TO versions_v1; DROP INDEX versions_by_path; ${VERSIONS_TABLE}`)
      const insert = db.prepare('INSERT INTO versions (id, folder, path, sealed, replaced_at, replaced_by) VALUES (?, ?, ?, ?, ?, ?)')
      for (const row of old) {
        const record = { ...JSON.parse(String(row.record)) as Omit<FileRecord, 'chunks'>, chunks: decodeChunks(row.chunks as Uint8Array) }
        insert.run(row.id as number, String(row.folder), String(row.path), seal(key, String(row.folder), record), row.replaced_at as number, String(row.replaced_by))
      }
      db.exec(`DROP TABLE versions_v1; PRAGMA user_version = ${SCHEMA_VERSION}`)
    }
  })
}

/** Opens (creating or upgrading) the history; `key` is the server's data key. */
export function openCentralHistory (path: string, key: KeyObject): CentralHistory {
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000')
  if (Number(db.prepare('PRAGMA user_version').get()?.user_version) === 1) upgrade(db, key)
  migrateSchema(db, { schema: SCHEMA, version: SCHEMA_VERSION, what: 'version history of the central copy' })
  const insert = db.prepare('INSERT INTO versions (folder, path, sealed, replaced_at, replaced_by) VALUES (?, ?, ?, ?, ?)')
  const select = db.prepare(`SELECT folder, path, sealed, replaced_at, replaced_by FROM versions
    WHERE folder = ? AND (path = ? OR (path >= ? AND path < ?)) ORDER BY replaced_at DESC, id DESC LIMIT 1000`)
  const getRetention = db.prepare('SELECT keep_versions, max_age_days FROM retention WHERE folder = ?')
  const putRetention = db.prepare('INSERT INTO retention (folder, keep_versions, max_age_days) VALUES (?, ?, ?) ON CONFLICT (folder) DO UPDATE SET keep_versions = excluded.keep_versions, max_age_days = excluded.max_age_days')
  const folders = db.prepare('SELECT DISTINCT folder FROM versions')
  const every = db.prepare('SELECT folder, path, sealed, replaced_at, replaced_by FROM versions ORDER BY id')
  // Per path, the newest keepVersions stay; of those, the ones older than maxAgeDays go too.
  const pruneFolder = db.prepare(`DELETE FROM versions WHERE id IN (
    SELECT id FROM (SELECT id, replaced_at, ROW_NUMBER() OVER (PARTITION BY path ORDER BY replaced_at DESC, id DESC) AS n FROM versions WHERE folder = ?)
    WHERE n > ? OR replaced_at < ?)`)
  const retention = (folder: string): RetentionPolicy => {
    const row = getRetention.get(folder)
    return row === undefined ? { ...CENTRAL_RETENTION } : { keepVersions: Number(row.keep_versions), maxAgeDays: Number(row.max_age_days) }
  }
  return {
    retention,
    setRetention (folder, policy) {
      if (!Number.isSafeInteger(policy.keepVersions) || policy.keepVersions < 1 || policy.keepVersions > 10_000) throw new InvalidInputError('keepVersions must be a whole number from 1 to 10000')
      if (!Number.isSafeInteger(policy.maxAgeDays) || policy.maxAgeDays < 0 || policy.maxAgeDays > 36_500) throw new InvalidInputError('maxAgeDays must be a whole number of days from 0 (forever) to 36500')
      putRetention.run(folder, policy.keepVersions, policy.maxAgeDays)
    },
    prune (now = new Date()) {
      let removed = 0
      for (const row of folders.all()) {
        const folder = String(row.folder)
        const { keepVersions, maxAgeDays } = retention(folder)
        const oldest = maxAgeDays === 0 ? -1 : now.getTime() - maxAgeDays * DAY_MS
        removed += Number(pruneFolder.run(folder, keepVersions, oldest).changes)
      }
      return removed
    },
    add (folder, record, replacedBy, at = new Date()) {
      insert.run(folder, record.path, seal(key, folder, record), at.getTime(), replacedBy)
    },
    addMany (folder, versions, at = new Date()) {
      if (versions.length === 0) return
      inTransaction(db, () => {
        for (const { record, replacedBy } of versions) insert.run(folder, record.path, seal(key, folder, record), at.getTime(), replacedBy)
      })
    },
    list (folder, path) {
      const prefix = path === '' || path === '.' ? '' : `${path}/`
      return select.all(folder, path, prefix, `${prefix}\uffff`).map(row => ({
        folder: String(row.folder),
        path: String(row.path),
        record: unseal(key, String(row.folder), String(row.path), row.sealed as Uint8Array),
        replacedAt: new Date(Number(row.replaced_at)),
        replacedBy: String(row.replaced_by)
      }))
    },
    * all () {
      for (const row of every.iterate()) {
        yield {
          folder: String(row.folder),
          path: String(row.path),
          record: unseal(key, String(row.folder), String(row.path), row.sealed as Uint8Array),
          replacedAt: new Date(Number(row.replaced_at)),
          replacedBy: String(row.replaced_by)
        }
      }
    },
    close () { db.close() }
  }
}
