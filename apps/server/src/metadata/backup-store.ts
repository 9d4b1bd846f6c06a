import type { DatabaseSync } from 'node:sqlite'
import { ConflictError } from '../accounts/errors.ts'
import { date, text } from './sqlite-rows.ts'
import type { Row } from './sqlite-rows.ts'
import type { BackupRetention } from '@aerie/core'
import type { BackupHoldRecord, BackupRestoreGrantRecord, BackupRetentionRecord, BackupSnapshotRecord, BackupStore, ScrubReport } from './stores.ts'

/**
 * The endpoint-backup tables: part of a new database's schema, and schema version 3's migration.
 * A snapshot row is never updated (the trigger refuses it): devices only add snapshots, and
 * only the server's retention removes them (forgetSnapshot, audited by its caller). IF NOT EXISTS: a database made at a later version
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

/** Schema version 4: retention policies, legal holds, admin restore grants and scrub reports. */
export const BACKUP_ADMIN_SCHEMA = `
  CREATE TABLE IF NOT EXISTS backup_retention (scope TEXT PRIMARY KEY, policy TEXT NOT NULL, set_by TEXT NOT NULL, set_at INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS backup_holds (
    kind TEXT NOT NULL CHECK (kind IN ('user', 'device')),
    subject TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (kind, subject)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS backup_restore_grants (
    id TEXT PRIMARY KEY,
    snapshot_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS backup_restore_grants_by_device ON backup_restore_grants (device_id, expires_at);
  CREATE TABLE IF NOT EXISTS backup_scrubs (id INTEGER PRIMARY KEY, finished_at TEXT NOT NULL, report TEXT NOT NULL) STRICT;
`

export function backupStore (db: DatabaseSync): BackupStore {
  const s = {
    insert: db.prepare(`INSERT INTO backup_snapshots (id, device_id, device_name, user, root, paths, started_at, committed_at, counters,
      received_chunks, received_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byId: db.prepare('SELECT * FROM backup_snapshots WHERE id = ?'),
    all: db.prepare('SELECT * FROM backup_snapshots ORDER BY committed_at, id'),
    ofDevice: db.prepare('SELECT * FROM backup_snapshots WHERE device_id = ? ORDER BY committed_at, id'),
    forget: db.prepare('DELETE FROM backup_snapshots WHERE id = ?'),
    retention: db.prepare('SELECT * FROM backup_retention WHERE scope = ?'),
    retentions: db.prepare('SELECT * FROM backup_retention ORDER BY scope'),
    setRetention: db.prepare(`INSERT INTO backup_retention (scope, policy, set_by, set_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (scope) DO UPDATE SET policy = excluded.policy, set_by = excluded.set_by, set_at = excluded.set_at`),
    clearRetention: db.prepare('DELETE FROM backup_retention WHERE scope = ?'),
    holds: db.prepare('SELECT * FROM backup_holds ORDER BY set_at, kind, subject'),
    setHold: db.prepare(`INSERT INTO backup_holds (kind, subject, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (kind, subject) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at`),
    liftHold: db.prepare('DELETE FROM backup_holds WHERE kind = ? AND subject = ?'),
    addGrant: db.prepare('INSERT INTO backup_restore_grants (id, snapshot_id, device_id, granted_by, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
    grants: db.prepare('SELECT * FROM backup_restore_grants WHERE device_id = ? AND expires_at > ? ORDER BY granted_at'),
    allGrants: db.prepare('SELECT * FROM backup_restore_grants WHERE expires_at > ? ORDER BY granted_at, id'),
    revokeGrant: db.prepare('DELETE FROM backup_restore_grants WHERE id = ?'),
    addScrub: db.prepare('INSERT INTO backup_scrubs (finished_at, report) VALUES (?, ?)'),
    lastScrub: db.prepare('SELECT report FROM backup_scrubs ORDER BY id DESC LIMIT 1')
  }
  const subject = (kind: string, name: string): string => kind === 'user' ? name.toLowerCase() : name
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
  const retention = (row: Row): BackupRetentionRecord => ({ policy: JSON.parse(text(row.policy)) as BackupRetention, setBy: text(row.set_by), setAt: date(row.set_at) })
  const grant = (row: Row): BackupRestoreGrantRecord => ({
    id: text(row.id), snapshotId: text(row.snapshot_id), deviceId: text(row.device_id), grantedBy: text(row.granted_by), grantedAt: date(row.granted_at), expiresAt: date(row.expires_at)
  })
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
    listSnapshots: filter => (filter?.deviceId === undefined ? s.all.all() : s.ofDevice.all(filter.deviceId)).map(row => snapshot(row)!),
    forgetSnapshot: id => Number(s.forget.run(id).changes) === 1,
    retention (scope) {
      const row = s.retention.get(scope)
      return row === undefined ? undefined : retention(row)
    },
    retentionPolicies: () => s.retentions.all().map(row => ({ scope: text(row.scope), ...retention(row) })),
    setRetention (scope, r) {
      if (r === undefined) s.clearRetention.run(scope)
      else s.setRetention.run(scope, JSON.stringify(r.policy), r.setBy, r.setAt.getTime())
    },
    holds: () => s.holds.all().map(row => ({
      kind: text(row.kind) as BackupHoldRecord['kind'], subject: text(row.subject), reason: text(row.reason), setBy: text(row.set_by), setAt: date(row.set_at)
    })),
    setHold (h) { s.setHold.run(h.kind, subject(h.kind, h.subject), h.reason, h.setBy, h.setAt.getTime()) },
    liftHold: (kind, name) => Number(s.liftHold.run(kind, subject(kind, name)).changes) === 1,
    addRestoreGrant (g) { s.addGrant.run(g.id, g.snapshotId, g.deviceId, g.grantedBy, g.grantedAt.getTime(), g.expiresAt.getTime()) },
    restoreGrants: (deviceId, now) => s.grants.all(deviceId, now.getTime()).map(grant),
    allRestoreGrants: now => s.allGrants.all(now.getTime()).map(grant),
    revokeRestoreGrant: id => Number(s.revokeGrant.run(id).changes) === 1,
    addScrub (report) { s.addScrub.run(report.finishedAt, JSON.stringify(report)) },
    lastScrub () {
      const row = s.lastScrub.get()
      return row === undefined ? undefined : JSON.parse(text(row.report)) as ScrubReport
    }
  }
}
