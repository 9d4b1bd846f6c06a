import type { DatabaseSync } from 'node:sqlite'
import { ConflictError } from '../accounts/errors.ts'
import { date, text } from './sqlite-rows.ts'
import type { Row } from './sqlite-rows.ts'
import type { ShareLinkRecord, ShareStore, SnapshotFile } from './stores.ts'

/** The share-link tables: part of a new database's schema, and schema version 2's migration. */
export const SHARE_SCHEMA = `
  CREATE TABLE share_links (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    password_hash TEXT,
    max_downloads INTEGER,
    downloads INTEGER NOT NULL DEFAULT 0,
    upload_only INTEGER NOT NULL CHECK (upload_only IN (0, 1)),
    max_upload_bytes INTEGER,
    snapshot TEXT,
    revoked_at INTEGER
  ) STRICT;
  CREATE INDEX share_links_by_creator ON share_links (created_by, created_at);
  CREATE TABLE share_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_lifetime_seconds INTEGER NOT NULL,
    password_required INTEGER NOT NULL CHECK (password_required IN (0, 1)),
    max_upload_bytes INTEGER NOT NULL
  ) STRICT;
`

export function shareStore (db: DatabaseSync): ShareStore {
  const s = {
    insert: db.prepare(`INSERT INTO share_links (id, token_hash, folder, path, kind, created_by, created_at, expires_at, password_hash,
      max_downloads, upload_only, max_upload_bytes, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byId: db.prepare('SELECT * FROM share_links WHERE id = ?'),
    byHash: db.prepare('SELECT * FROM share_links WHERE token_hash = ?'),
    all: db.prepare('SELECT * FROM share_links ORDER BY created_at DESC, id'),
    ofUser: db.prepare('SELECT * FROM share_links WHERE created_by = ? ORDER BY created_at DESC, id'),
    revoke: db.prepare('UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    count: db.prepare('UPDATE share_links SET downloads = downloads + 1 WHERE id = ? AND (max_downloads IS NULL OR downloads < max_downloads)'),
    policy: db.prepare('SELECT * FROM share_policy WHERE id = 1'),
    setPolicy: db.prepare(`INSERT INTO share_policy (id, max_lifetime_seconds, password_required, max_upload_bytes) VALUES (1, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET max_lifetime_seconds = excluded.max_lifetime_seconds,
      password_required = excluded.password_required, max_upload_bytes = excluded.max_upload_bytes`)
  }
  const link = (row: Row | undefined): ShareLinkRecord | undefined => row === undefined
    ? undefined
    : {
        id: text(row.id),
        tokenHash: text(row.token_hash),
        folder: text(row.folder),
        path: text(row.path),
        kind: text(row.kind) as ShareLinkRecord['kind'],
        createdBy: text(row.created_by),
        createdAt: date(row.created_at),
        expiresAt: date(row.expires_at),
        ...(row.password_hash === null ? {} : { passwordHash: text(row.password_hash) }),
        ...(row.max_downloads === null ? {} : { maxDownloads: Number(row.max_downloads) }),
        downloads: Number(row.downloads),
        uploadOnly: Number(row.upload_only) === 1,
        ...(row.max_upload_bytes === null ? {} : { maxUploadBytes: Number(row.max_upload_bytes) }),
        ...(row.snapshot === null ? {} : { snapshot: JSON.parse(text(row.snapshot)) as SnapshotFile[] }),
        ...(row.revoked_at === null ? {} : { revokedAt: date(row.revoked_at) })
      }
  return {
    createShare (r) {
      try {
        s.insert.run(r.id, r.tokenHash, r.folder, r.path, r.kind, r.createdBy, r.createdAt.getTime(), r.expiresAt.getTime(), r.passwordHash ?? null,
          r.maxDownloads ?? null, r.uploadOnly ? 1 : 0, r.maxUploadBytes ?? null, r.snapshot === undefined ? null : JSON.stringify(r.snapshot))
      } catch (err) {
        if (s.byId.get(r.id) !== undefined || s.byHash.get(r.tokenHash) !== undefined) throw new ConflictError('a share link with this id or token exists already', { cause: err })
        throw err
      }
      return link(s.byId.get(r.id))!
    },
    shareById: id => link(s.byId.get(id)),
    shareByTokenHash: hash => link(s.byHash.get(hash)),
    listShares: createdBy => (createdBy === undefined ? s.all.all() : s.ofUser.all(createdBy)).map(row => link(row)!),
    revokeShare: (id, at) => Number(s.revoke.run(at.getTime(), id).changes) === 1,
    countDownload: id => Number(s.count.run(id).changes) === 1,
    policy () {
      const row = s.policy.get()
      return row === undefined
        ? undefined
        : { maxLifetimeSeconds: Number(row.max_lifetime_seconds), passwordRequired: Number(row.password_required) === 1, maxUploadBytes: Number(row.max_upload_bytes) }
    },
    setPolicy ({ maxLifetimeSeconds, passwordRequired, maxUploadBytes }) { s.setPolicy.run(maxLifetimeSeconds, passwordRequired ? 1 : 0, maxUploadBytes) }
  }
}
