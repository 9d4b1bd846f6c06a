import { migrateSchema } from '../util/sqlite-schema.ts'
import { NotConfiguredError } from '../errors.ts'
import type { DatabaseSync } from 'node:sqlite'

const SCHEMA_VERSION = 1

/**
 * One database per device for all its folders, so a chunk can be found in any of them.
 * Device 0 in `files` is this device; remote devices get small ids in `devices`.
 * A folder's row (and its sequence counter) outlives removeFolder, so a re-added folder
 * never hands out a sequence number a peer has already seen.
 */
const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    local_sequence INTEGER NOT NULL DEFAULT 0,
    -- Random per folder row: a peer that sees it change knows our records were rebuilt
    -- (database lost or reset) and that its copy of them must be dropped, not trusted.
    index_id TEXT NOT NULL DEFAULT (lower(hex(randomblob(8))))
  ) STRICT;
  CREATE TABLE devices (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL UNIQUE) STRICT;
  CREATE TABLE peers (
    folder INTEGER NOT NULL,
    device INTEGER NOT NULL,
    max_sequence INTEGER NOT NULL,
    index_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (folder, device)
  ) STRICT, WITHOUT ROWID;
  -- WITHOUT ROWID: a lookup or update by path is one b-tree, not an index and a table. A huge
  -- file's chunk list spills to overflow pages, which SQLite handles.
  CREATE TABLE files (
    folder INTEGER NOT NULL,
    device INTEGER NOT NULL,
    path TEXT NOT NULL,
    type INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    mode INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    chunks BLOB NOT NULL,
    target TEXT,
    version TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    modified_by TEXT NOT NULL,
    inode REAL, -- REAL: stat's inode numbers can be beyond what an INTEGER holds exactly
    PRIMARY KEY (folder, path, device)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX files_by_sequence ON files (folder, device, sequence);
  -- Keyed by hash alone (one b-tree to update, not two): a file's rows are found again
  -- from its own chunk list when it changes.
  CREATE TABLE chunks (
    hash BLOB NOT NULL,
    folder INTEGER NOT NULL,
    path TEXT NOT NULL,
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (hash, folder, path, offset)
  ) STRICT, WITHOUT ROWID;
`

export function migrate (db: DatabaseSync): void {
  migrateSchema(db, { schema: SCHEMA, version: SCHEMA_VERSION, what: 'folder index' })
}

/** Binds the database to one device: versions bumped under another id would be wrong. */
export function claimDevice (db: DatabaseSync, localDeviceId: string): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('local_device', ?) ON CONFLICT (key) DO NOTHING").run(localDeviceId)
  const owner = String(db.prepare("SELECT value FROM meta WHERE key = 'local_device'").get()?.value)
  if (owner !== localDeviceId) {
    throw new NotConfiguredError(`this folder index belongs to device ${owner}, not ${localDeviceId}; open the index in that device's own state directory`)
  }
}
