import { DatabaseSync } from 'node:sqlite'
import { encodeChunks, decodeChunks } from '../index/record-codec.ts'
import { migrateSchema } from '../util/sqlite-schema.ts'
import type { FileRecord } from '../index/index.ts'

/**
 * The version history of a central copy: every file version the team server held before a
 * newer one (or a deletion) replaced it, whoever made it. Only records are kept here; their
 * chunks stay in the chunk store, so a version costs the bytes that changed.
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
  /** Versions of a path, or of every path under a directory (prefix), newest first. */
  list (folder: string, path: string): CentralVersion[]
  close (): void
}

const SCHEMA = `
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    folder TEXT NOT NULL,
    path TEXT NOT NULL,
    record TEXT NOT NULL,
    chunks BLOB NOT NULL,
    replaced_at INTEGER NOT NULL,
    replaced_by TEXT NOT NULL
  ) STRICT;
  CREATE INDEX versions_by_path ON versions (folder, path, replaced_at);
`

export function openCentralHistory (path: string): CentralHistory {
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000')
  migrateSchema(db, { schema: SCHEMA, version: 1, what: 'version history of the central copy' })
  const insert = db.prepare('INSERT INTO versions (folder, path, record, chunks, replaced_at, replaced_by) VALUES (?, ?, ?, ?, ?, ?)')
  const select = db.prepare(`SELECT folder, path, record, chunks, replaced_at, replaced_by FROM versions
    WHERE folder = ? AND (path = ? OR (path >= ? AND path < ?)) ORDER BY replaced_at DESC, id DESC LIMIT 1000`)
  return {
    add (folder, record, replacedBy, at = new Date()) {
      const { chunks, ...rest } = record
      insert.run(folder, record.path, JSON.stringify(rest), encodeChunks(chunks), at.getTime(), replacedBy)
    },
    list (folder, path) {
      const prefix = path === '' || path === '.' ? '' : `${path}/`
      return select.all(folder, path, prefix, `${prefix}\uffff`).map(row => ({
        folder: String(row.folder),
        path: String(row.path),
        record: { ...JSON.parse(String(row.record)) as Omit<FileRecord, 'chunks'>, chunks: decodeChunks(row.chunks as Uint8Array) },
        replacedAt: new Date(Number(row.replaced_at)),
        replacedBy: String(row.replaced_by)
      }))
    },
    close () { db.close() }
  }
}
