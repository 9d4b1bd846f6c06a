import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { FILE_COLUMNS, HELD_COLUMNS } from './record-codec.ts'
import type { FileRow } from './record-codec.ts'

/** This device in the files table; remote devices have ids from the devices table (1 and up). */
export const LOCAL_DEVICE = 0
/** What the scanner compares (LocalStat), read without decoding any chunk list. */
const STAT_COLUMNS = 'path, type, size, mtime_ms, mode, target, inode'

/** Every statement the index runs, prepared once: 100k updates reuse them. */
export function prepareStatements (db: DatabaseSync) {
  const statements = {
    folder: db.prepare('SELECT id, local_sequence, index_id FROM folders WHERE name = ?'),
    addFolder: db.prepare(`INSERT INTO folders (name) VALUES (?)
      ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, local_sequence, index_id`),
    setLocalSequence: db.prepare('UPDATE folders SET local_sequence = ? WHERE id = ?'),
    device: db.prepare('SELECT id FROM devices WHERE device_id = ?'),
    addDevice: db.prepare(`INSERT INTO devices (device_id) VALUES (?)
      ON CONFLICT (device_id) DO UPDATE SET device_id = excluded.device_id RETURNING id`),
    file: db.prepare(`SELECT ${FILE_COLUMNS} FROM files f WHERE f.folder = ? AND f.path = ? AND f.device = ?`),
    // Narrowed in SQL so the usual answer (none) costs no row objects.
    sameRemoteContent: db.prepare(`SELECT ${HELD_COLUMNS} FROM files f JOIN devices d ON d.id = f.device
      WHERE f.folder = ?1 AND f.path = ?2 AND f.device != ${LOCAL_DEVICE} AND f.type = ?3 AND f.deleted = ?4
        AND (?4 = 1 OR (f.size = ?5 AND f.mtime_ms = ?6))`),
    allOfPath: db.prepare(`SELECT ${HELD_COLUMNS} FROM files f LEFT JOIN devices d ON d.id = f.device
      WHERE f.folder = ? AND f.path = ?`),
    // Insert or update, not an upsert: the caller has just read the row, and UPDATE is cheaper.
    insertFile: db.prepare(`INSERT INTO files (folder, device, path, type, size, mtime_ms, mode, deleted, chunks, target, version, sequence, modified_by, inode)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    updateFile: db.prepare(`UPDATE files SET type = ?4, size = ?5, mtime_ms = ?6, mode = ?7, deleted = ?8, chunks = ?9, target = ?10,
      version = ?11, sequence = ?12, modified_by = ?13, inode = ?14 WHERE folder = ?1 AND device = ?2 AND path = ?3`),
    setInode: db.prepare(`UPDATE files SET inode = ? WHERE folder = ? AND path = ? AND device = ${LOCAL_DEVICE}`),
    deleteChunk: db.prepare('DELETE FROM chunks WHERE hash = ? AND folder = ? AND path = ? AND offset = ?'),
    addChunk: db.prepare('INSERT INTO chunks (hash, folder, path, offset, size) VALUES (?, ?, ?, ?, ?)'),
    localSince: db.prepare(`SELECT ${FILE_COLUMNS} FROM files f WHERE f.folder = ? AND f.device = ${LOCAL_DEVICE} AND f.sequence > ?
      ORDER BY f.sequence LIMIT ?`),
    hasPeers: db.prepare('SELECT 1 AS yes FROM peers WHERE folder = ? LIMIT 1'),
    peerSequence: db.prepare('SELECT max_sequence, index_id FROM peers WHERE folder = ? AND device = ?'),
    setPeerIndexId: db.prepare(`INSERT INTO peers (folder, device, max_sequence, index_id) VALUES (?, ?, 0, ?)
      ON CONFLICT (folder, device) DO UPDATE SET index_id = excluded.index_id`),
    setPeerSequence: db.prepare(`INSERT INTO peers (folder, device, max_sequence) VALUES (?, ?, ?)
      ON CONFLICT (folder, device) DO UPDATE SET max_sequence = excluded.max_sequence`),
    // Only paths where some peer's version differs from ours are worth deciding in JS.
    needRows: db.prepare(`SELECT ${HELD_COLUMNS} FROM files f LEFT JOIN devices d ON d.id = f.device
      WHERE f.folder = ?1 AND f.path IN (
        SELECT r.path FROM files r WHERE r.folder = ?1 AND r.device != ${LOCAL_DEVICE} AND NOT EXISTS (
          SELECT 1 FROM files l WHERE l.folder = ?1 AND l.path = r.path AND l.device = ${LOCAL_DEVICE} AND l.version = r.version))
      ORDER BY f.path`),
    findChunk: db.prepare(`SELECT fo.name AS folder, c.path, c.offset, c.size FROM chunks c JOIN folders fo ON fo.id = c.folder
      WHERE c.hash = ? ORDER BY fo.name, c.path, c.offset`),
    deleteFolderFiles: db.prepare('DELETE FROM files WHERE folder = ?'),
    localStats: db.prepare(`SELECT ${STAT_COLUMNS} FROM files WHERE folder = ? AND device = ${LOCAL_DEVICE} AND deleted = 0`),
    localStat: db.prepare(`SELECT ${STAT_COLUMNS} FROM files WHERE folder = ? AND path = ? AND device = ${LOCAL_DEVICE} AND deleted = 0`),
    // Paths below a directory: from 'dir/' up to 'dir0' ('0' follows '/').
    localStatsBelow: db.prepare(`SELECT ${STAT_COLUMNS} FROM files
      WHERE folder = ?1 AND path >= ?2 || '/' AND path < ?2 || '0' AND device = ${LOCAL_DEVICE} AND deleted = 0`),
    localCount: db.prepare(`SELECT COUNT(*) AS n FROM files WHERE folder = ? AND device = ${LOCAL_DEVICE} AND deleted = 0`),
    localChunkLists: db.prepare(`SELECT path, chunks FROM files WHERE folder = ? AND device = ${LOCAL_DEVICE}`),
    deleteFolderPeers: db.prepare('DELETE FROM peers WHERE folder = ?'),
    deletePeerFiles: db.prepare('DELETE FROM files WHERE folder = ? AND device = ?'),
    deletePeer: db.prepare('DELETE FROM peers WHERE folder = ? AND device = ?')
  }
  // Record rows are read as arrays (see FILE_COLUMNS).
  for (const statement of [statements.file, statements.sameRemoteContent, statements.allOfPath, statements.localSince, statements.needRows]) {
    statement.setReturnArrays(true)
  }
  return statements
}

export function rowsOf (statement: StatementSync, ...params: Array<string | number>): FileRow[] {
  return statement.all(...params) as unknown as FileRow[]
}

export function rowOf (statement: StatementSync, ...params: Array<string | number>): FileRow | undefined {
  return statement.get(...params) as unknown as FileRow | undefined
}
