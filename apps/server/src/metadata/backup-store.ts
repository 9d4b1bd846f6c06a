import type { DatabaseSync } from 'node:sqlite'
import { ConflictError } from '../accounts/errors.ts'
import { date, text } from './sqlite-rows.ts'
import type { Row } from './sqlite-rows.ts'
import type { BackupSnapshotRecord, BackupStore } from './stores.ts'

/**
 * The endpoint-backup tables: part of a new database's schema, and schema version 3's migration.
 * A snapshot row is never updated (the trigger refuses it): devices only add snapshots, and
 * only the server's retention will remove them. IF NOT EXISTS: a database made at a later version
 * and set back (as tests do) upgrades cleanly.
 */
export const BACKUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS backup_snapshots (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    user TEXT NOT NULL,
    root TEXT NOT NULL,
    paths TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    committed_at INTEGER NOT NULL,
    counters TEXT NOT NULL,
    received_chunks INTEGER NOT NULL,
    received_bytes INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS backup_snapshots_by_device ON backup_snapshots (device_id, committed_at);
  CREATE TRIGGER IF NOT EXISTS backup_snapshots_no_update BEFORE UPDATE ON backup_snapshots BEGIN SELECT RAISE(ABORT, 'a snapshot is immutable'); END;
`

export function backupStore (db: DatabaseSync): BackupStore {
  const s = {
    insert: db.prepare(`INSERT INTO backup_snapshots (id, device_id, device_name, user, root, paths, started_at, committed_at, counters,
      received_chunks, received_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byId: db.prepare('SELECT * FROM backup_snapshots WHERE id = ?'),
    all: db.prepare('SELECT * FROM backup_snapshots ORDER BY committed_at, id'),
    ofDevice: db.prepare('SELECT * FROM backup_snapshots WHERE device_id = ? ORDER BY committed_at, id')
  }
  const snapshot = (row: Row | undefined): BackupSnapshotRecord | undefined => row === undefined
    ? undefined
    : {
        id: text(row.id),
        deviceId: text(row.device_id),
        deviceName: text(row.device_name),
        user: text(row.user),
        root: text(row.root),
        paths: JSON.parse(text(row.paths)) as string[],
        startedAt: date(row.started_at),
        committedAt: date(row.committed_at),
        counters: JSON.parse(text(row.counters)) as Record<string, number>,
        received: { chunks: Number(row.received_chunks), bytes: Number(row.received_bytes) }
      }
  return {
    addSnapshot (r) {
      try {
        s.insert.run(r.id, r.deviceId, r.deviceName, r.user, r.root, JSON.stringify(r.paths), r.startedAt.getTime(), r.committedAt.getTime(),
          JSON.stringify(r.counters), r.received.chunks, r.received.bytes)
      } catch (err) {
        if (s.byId.get(r.id) !== undefined) throw new ConflictError(`a snapshot with id ${r.id} exists already, and snapshots are never replaced`, { cause: err })
        throw err
      }
      return snapshot(s.byId.get(r.id))!
    },
    snapshot: id => snapshot(s.byId.get(id)),
    listSnapshots: filter => (filter?.deviceId === undefined ? s.all.all() : s.ofDevice.all(filter.deviceId)).map(row => snapshot(row)!)
  }
}
