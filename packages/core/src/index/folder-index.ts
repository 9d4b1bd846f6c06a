import { DatabaseSync } from 'node:sqlite'
import type { SQLOutputValue } from 'node:sqlite'
import { InvalidInputError, ProtocolError } from '../errors.ts'
import { pickGlobal } from './global-winner.ts'
import type { Contender } from './global-winner.ts'
import { COL, decodeChunks, FILE_COLUMNS, fileTypeFromCode, HASH_BYTES, recordFromRow, rowContent, sameBytes, sameStoredContent, storeContent } from './record-codec.ts'
import type { FileRow, StoredContent } from './record-codec.ts'
import { contentProblem, normaliseChange, recordProblem } from './record-rules.ts'
import { claimDevice, migrate } from './schema.ts'
import { LOCAL_DEVICE, prepareStatements, rowOf, rowsOf } from './statements.ts'
import type { ChunkRef, Content, FileRecord, LocalChange, LocalStat, StatScope } from './types.ts'
import { bumpVersion, compareVersions, decodeVersion, encodeVersion } from './version-vector.ts'
import type { VersionVector } from './version-vector.ts'
import { inTransaction } from '../util/sqlite-schema.ts'

/** How the global version of a path names this device. */
export const LOCAL = 'local'

export interface GlobalRecord {
  winner: FileRecord
  /** LOCAL or the remote device id that holds the winner. */
  device: string
  /** The concurrent versions that lost, one per distinct version. */
  conflicts: Array<{ device: string, record: FileRecord }>
}

/** This device's records and its copy of each peer's, for every folder, in one SQLite file. */
export interface FolderIndex extends Disposable {
  /**
   * Records what the scanner saw, in one transaction. Returns the records that changed (each
   * with a new sequence); a change equal to the local record is skipped. A change that matches
   * a newer remote version exactly (the puller wrote it) takes that version instead of a bump.
   */
  updateLocal (folder: string, changes: readonly LocalChange[]): FileRecord[]
  /**
   * After the puller wrote a remote's version to disk: the local record becomes it, with its
   * version (no bump) and a new local sequence. Refused when the local record is newer.
   */
  adoptRemote (folder: string, record: FileRecord & { inode?: number }): FileRecord
  /** adoptRemote for many files in one transaction (all or none): a puller's batch. */
  adoptRemotes (folder: string, records: ReadonlyArray<FileRecord & { inode?: number }>): FileRecord[]
  getLocal (folder: string, path: string): (FileRecord & { inode?: number }) | undefined
  /**
   * path -> what the scanner compares, for the folder's existing (not deleted) local files:
   * one query, and no chunk list decoded (a rescan of 100 000 unchanged files needs none).
   * With a scope, only those (a scan of the few paths the watcher reported need not load all).
   */
  localStats (folder: string, scope?: StatScope): Map<string, LocalStat>
  /** How many existing (not deleted) local files, directories and symlinks the folder has. */
  localCount (folder: string): number
  /** Every local record of the folder, tombstones included, by path. */
  localFiles (folder: string): Iterable<FileRecord>
  /** Local records with a sequence above `sequence`, ascending: what a peer has not seen yet. */
  localSince (folder: string, sequence: number, limit: number): FileRecord[]
  localSequence (folder: string): number
  /**
   * The folder's index id: random, made with its first record. Sent with the sequence numbers
   * so that a peer can tell our records were rebuilt (a new id) and must be fetched anew.
   */
  localIndexId (folder: string): string

  /** Stores a peer's announced records, in one transaction. A record older than the one held is ignored. */
  applyRemote (folder: string, deviceId: string, records: readonly FileRecord[]): void
  /** The highest sequence received from the peer for the folder: ask it for what comes after. */
  remoteSequence (folder: string, deviceId: string): number
  /** The index id the peer's records were from ('' before any); see localIndexId. */
  remoteIndexId (folder: string, deviceId: string): string
  /**
   * The peer announced an index id other than the one we hold records from: drop its
   * records and start again from sequence 0 under the new id. Nothing happens when it is the same.
   */
  useRemoteIndexId (folder: string, deviceId: string, indexId: string): void
  forgetRemote (folder: string, deviceId: string): void

  globalRecord (folder: string, path: string): GlobalRecord | undefined
  /**
   * Paths whose global version is newer than or concurrent with ours (or that we lack), by path,
   * so parents come first. A deletion of a path we never had is not needed. `localExists`: this
   * device's own record says something is at the path (so a file there is not a surprise).
   */
  need (folder: string): Array<{ path: string, winner: FileRecord, device: string, localExists: boolean }>

  /** Where a chunk is in this device's existing files, in any folder. */
  findChunk (hash: Uint8Array): Array<{ folder: string, path: string, offset: number, size: number }>
  /** Drops the folder's records; its sequence counter is kept so numbers are never reused. */
  removeFolder (folder: string): void
  close (): void
}

/** Opens (creating if needed) a device's folder index. WAL and a busy timeout let the CLI and the agent share it. */
export function openFolderIndex (path: string, localDeviceId: string): FolderIndex {
  if (typeof localDeviceId !== 'string' || localDeviceId === '' || localDeviceId === LOCAL) {
    throw new InvalidInputError('the folder index needs this device\'s id')
  }
  const db = new DatabaseSync(path)
  try {
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA journal_mode = WAL')
    // Safe with WAL: a crash may lose the last commits, never corrupt or half-apply one.
    db.exec('PRAGMA synchronous = NORMAL')
    db.exec('PRAGMA cache_size = -65536')
    migrate(db)
    claimDevice(db, localDeviceId)
  } catch (err) {
    db.close()
    throw err
  }

  const statements = prepareStatements(db)

  /** Every multi-row change in one transaction: a crash or an error leaves none of it. */
  const transaction = <T>(work: () => T): T => inTransaction(db, work)

  // Ids are looked up per call, not cached: a rolled-back transaction may have made one.
  function folderRow (folder: string): { id: number, sequence: number, indexId: string } | undefined {
    const row = statements.folder.get(folder)
    return row === undefined ? undefined : { id: Number(row.id), sequence: Number(row.local_sequence), indexId: String(row.index_id) }
  }

  function addFolder (folder: string): { id: number, sequence: number, indexId: string } {
    if (typeof folder !== 'string' || folder === '') throw new InvalidInputError('a folder id must be a non-empty string')
    const row = statements.addFolder.get(folder) as { id: number, local_sequence: number, index_id: string }
    return { id: Number(row.id), sequence: Number(row.local_sequence), indexId: String(row.index_id) }
  }

  function writeFile (exists: boolean, folderId: number, device: number, path: string, content: StoredContent, version: string,
    sequence: number, modifiedBy: string, inode: number | null): void {
    const statement = exists ? statements.updateFile : statements.insertFile
    statement.run(folderId, device, path, content.type, content.size, content.mtime_ms, content.mode, content.deleted,
      content.chunks, content.target, version, sequence, modifiedBy, inode)
  }

  /** Keeps the chunks table in step with a local record, in the caller's transaction. */
  function writeLocalChunks (folderId: number, path: string, chunks: readonly ChunkRef[], content: StoredContent, replaced: FileRow | undefined): void {
    // A touch or a chmod leaves the chunk list as it was.
    if (replaced !== undefined && sameBytes(replaced[COL.chunks] as Uint8Array, content.chunks)) return
    if (replaced !== undefined) deleteLocalChunks(folderId, path, replaced[COL.chunks] as Uint8Array)
    let offset = 0
    for (const chunk of chunks) {
      statements.addChunk.run(chunk.hash, folderId, path, offset, chunk.size)
      offset += chunk.size
    }
  }

  function deleteLocalChunks (folderId: number, path: string, chunkList: Uint8Array): void {
    let offset = 0
    for (const chunk of decodeChunks(chunkList)) {
      statements.deleteChunk.run(chunk.hash, folderId, path, offset)
      offset += chunk.size
    }
  }

  function contenders (rows: readonly FileRow[]): Array<Contender & { row: FileRow }> {
    return rows.map(row => ({
      device: row[COL.device] === LOCAL_DEVICE ? LOCAL : String(row[COL.deviceId]),
      version: decodeVersion(String(row[COL.version])),
      versionKey: String(row[COL.version]),
      deleted: row[COL.deleted] === 1,
      mtimeMs: Number(row[COL.mtimeMs]),
      modifiedBy: String(row[COL.modifiedBy]),
      row
    }))
  }

  /** A remote version with exactly this content that is newer than ours: the puller wrote it. */
  function adoptableVersion (folderId: number, path: string, content: StoredContent, current: VersionVector | undefined) {
    const rows = rowsOf(statements.sameRemoteContent, folderId, path, content.type, content.deleted, content.size, content.mtime_ms)
    const matching = contenders(rows).filter(c =>
      sameStoredContent(rowContent(c.row), content) && (current === undefined || compareVersions(c.version, current) === 'newer'))
    return pickGlobal(matching)?.winner
  }

  const index: FolderIndex = {
    updateLocal (folder, changes) {
      return transaction(() => {
        const { id: folderId, sequence: startSequence } = addFolder(folder)
        const hasPeers = statements.hasPeers.get(folderId) !== undefined
        const now = Date.now()
        let sequence = startSequence
        const changed: FileRecord[] = []
        for (const raw of changes) {
          const change = normaliseChange(raw)
          const problem = contentProblem(change) ?? inodeProblem(change.inode)
          if (problem !== undefined) throw new InvalidInputError(`cannot record ${quote(raw?.path)} in folder "${folder}": ${problem}`)
          const content = storeContent(change)
          const inode = change.inode ?? null
          const row = rowOf(statements.file, folderId, change.path, LOCAL_DEVICE)
          if (row !== undefined && sameStoredContent(rowContent(row), content)) {
            // Not announced, so no new sequence; only the rename hint is refreshed.
            if (inode !== null && row[COL.inode] !== inode) statements.setInode.run(inode, folderId, change.path)
            continue
          }
          const current = row === undefined ? undefined : decodeVersion(String(row[COL.version]))
          const adopted = hasPeers ? adoptableVersion(folderId, change.path, content, current) : undefined
          const version = adopted?.version ?? bumpVersion(current ?? {}, localDeviceId, now)
          const modifiedBy = adopted?.modifiedBy ?? localDeviceId
          sequence += 1
          writeFile(row !== undefined, folderId, LOCAL_DEVICE, change.path, content, encodeVersion(version), sequence, modifiedBy, inode)
          writeLocalChunks(folderId, change.path, change.chunks, content, row)
          changed.push(localRecord(change, version, sequence, modifiedBy))
        }
        if (sequence !== startSequence) statements.setLocalSequence.run(sequence, folderId)
        return changed
      })
    },

    adoptRemote (folder, record) {
      return index.adoptRemotes(folder, [record])[0] as FileRecord
    },

    adoptRemotes (folder, records) {
      for (const record of records) {
        const problem = recordProblem(record) ?? inodeProblem(record.inode)
        if (problem !== undefined) throw new InvalidInputError(`cannot adopt ${quote(record?.path)} in folder "${folder}": ${problem}`)
      }
      return transaction(() => {
        const { id: folderId, sequence: startSequence } = addFolder(folder)
        let sequence = startSequence
        const adopted = records.map(record => {
          const content = storeContent(record)
          const version = encodeVersion(record.version)
          const row = rowOf(statements.file, folderId, record.path, LOCAL_DEVICE)
          if (row !== undefined) {
            const order = compareVersions(record.version, decodeVersion(String(row[COL.version])))
            if (order === 'older') {
              throw new InvalidInputError(`the local version of ${quote(record.path)} in folder "${folder}" is newer than the one being adopted; rescan the folder and pull again`)
            }
            if (order === 'equal' && sameStoredContent(rowContent(row), content) && row[COL.modifiedBy] === record.modifiedBy) return recordFromRow(row)
          }
          sequence += 1
          writeFile(row !== undefined, folderId, LOCAL_DEVICE, record.path, content, version, sequence, record.modifiedBy, record.inode ?? null)
          writeLocalChunks(folderId, record.path, record.chunks, content, row)
          return localRecord(record, decodeVersion(version), sequence, record.modifiedBy)
        })
        if (sequence !== startSequence) statements.setLocalSequence.run(sequence, folderId)
        return adopted
      })
    },

    getLocal (folder, path) {
      const id = folderRow(folder)?.id
      const row = id === undefined ? undefined : rowOf(statements.file, id, path, LOCAL_DEVICE)
      return row === undefined ? undefined : recordFromRow(row, true)
    },

    localStats (folder, scope) {
      const id = folderRow(folder)?.id
      const stats = new Map<string, LocalStat>()
      const add = (row: Record<string, SQLOutputValue>): void => {
        const stat: LocalStat = { type: fileTypeFromCode(Number(row.type)), size: Number(row.size), mtimeMs: Number(row.mtime_ms), mode: Number(row.mode) }
        if (row.target != null) stat.target = String(row.target)
        if (row.inode != null) stat.inode = Number(row.inode)
        stats.set(String(row.path), stat)
      }
      if (id === undefined) return stats
      if (scope === undefined) {
        for (const row of statements.localStats.all(id)) add(row)
        return stats
      }
      for (const path of scope.paths) {
        const row = statements.localStat.get(id, path)
        if (row !== undefined) add(row)
      }
      for (const dir of scope.below) for (const row of statements.localStatsBelow.all(id, dir)) add(row)
      return stats
    },

    localCount (folder) {
      const id = folderRow(folder)?.id
      return id === undefined ? 0 : Number(statements.localCount.get(id)?.n ?? 0)
    },

    * localFiles (folder) {
      const id = folderRow(folder)?.id
      if (id === undefined) return
      // Its own statement: two iterations of one prepared statement would reset each other.
      const statement = db.prepare(`SELECT ${FILE_COLUMNS} FROM files f WHERE f.folder = ? AND f.device = ${LOCAL_DEVICE} ORDER BY f.path`)
      statement.setReturnArrays(true)
      for (const row of statement.iterate(id)) yield recordFromRow(row as unknown as FileRow)
    },

    localSince (folder, sequence, limit) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidInputError('the limit must be a whole number >= 1')
      const id = folderRow(folder)?.id
      if (id === undefined) return []
      return rowsOf(statements.localSince, id, sequence, limit).map(row => recordFromRow(row))
    },

    localSequence (folder) {
      return folderRow(folder)?.sequence ?? 0
    },

    localIndexId (folder) {
      return (folderRow(folder) ?? transaction(() => addFolder(folder))).indexId
    },

    applyRemote (folder, deviceId, records) {
      checkRemoteDevice(deviceId)
      transaction(() => {
        const folderId = addFolder(folder).id
        const device = Number(statements.addDevice.get(deviceId)?.id)
        let highest = Number(statements.peerSequence.get(folderId, device)?.max_sequence ?? 0)
        let previous = 0
        for (const record of records) {
          const refuse = (problem: string): never => {
            throw new ProtocolError(`device ${deviceId} sent a record for ${quote(record?.path)} in folder "${folder}" that cannot be used: ${problem}`)
          }
          const problem = recordProblem(record)
          if (problem !== undefined) refuse(problem)
          if (record.sequence <= previous) refuse('sequence numbers in one update must increase')
          previous = record.sequence
          const content = storeContent(record)
          const version = encodeVersion(record.version)
          const held = rowOf(statements.file, folderId, record.path, device)
          if (held !== undefined) {
            const heldSequence = Number(held[COL.sequence])
            // A resend after a reconnect: what we hold is as new or newer.
            if (heldSequence > record.sequence) continue
            if (heldSequence === record.sequence) {
              if (held[COL.version] === version && held[COL.modifiedBy] === record.modifiedBy && sameStoredContent(rowContent(held), content)) continue
              refuse(`sequence ${record.sequence} was already used for a different version`)
            }
          }
          writeFile(held !== undefined, folderId, device, record.path, content, version, record.sequence, record.modifiedBy, null)
          highest = Math.max(highest, record.sequence)
        }
        statements.setPeerSequence.run(folderId, device, highest)
      })
    },

    remoteSequence (folder, deviceId) {
      const folderId = folderRow(folder)?.id
      const device = statements.device.get(deviceId)?.id
      if (folderId === undefined || device === undefined) return 0
      return Number(statements.peerSequence.get(folderId, device)?.max_sequence ?? 0)
    },

    remoteIndexId (folder, deviceId) {
      const folderId = folderRow(folder)?.id
      const device = statements.device.get(deviceId)?.id
      if (folderId === undefined || device === undefined) return ''
      return String(statements.peerSequence.get(folderId, device)?.index_id ?? '')
    },

    useRemoteIndexId (folder, deviceId, indexId) {
      checkRemoteDevice(deviceId)
      if (typeof indexId !== 'string' || indexId === '' || indexId.length > 64) throw new InvalidInputError('an index id is a string of 1 to 64 characters')
      if (index.remoteIndexId(folder, deviceId) === indexId) return
      transaction(() => {
        const folderId = addFolder(folder).id
        const device = Number(statements.addDevice.get(deviceId)?.id)
        statements.deletePeerFiles.run(folderId, device)
        statements.deletePeer.run(folderId, device)
        statements.setPeerIndexId.run(folderId, device, indexId)
      })
    },

    forgetRemote (folder, deviceId) {
      const folderId = folderRow(folder)?.id
      const device = statements.device.get(deviceId)?.id
      if (folderId === undefined || device === undefined) return
      transaction(() => {
        statements.deletePeerFiles.run(folderId, device)
        statements.deletePeer.run(folderId, device)
      })
    },

    globalRecord (folder, path) {
      const id = folderRow(folder)?.id
      if (id === undefined) return undefined
      const picked = pickGlobal(contenders(rowsOf(statements.allOfPath, id, path)))
      if (picked === undefined) return undefined
      return {
        winner: recordFromRow(picked.winner.row),
        device: picked.winner.device,
        conflicts: picked.conflicts.map(c => ({ device: c.device, record: recordFromRow(c.row) }))
      }
    },

    need (folder) {
      const id = folderRow(folder)?.id
      if (id === undefined) return []
      const needed: ReturnType<FolderIndex['need']> = []
      const rows = rowsOf(statements.needRows, id)
      for (let start = 0; start < rows.length;) {
        let end = start + 1
        while (end < rows.length && rows[end]?.[COL.path] === rows[start]?.[COL.path]) end++
        const group = contenders(rows.slice(start, end))
        start = end
        const winner = pickGlobal(group)?.winner
        if (winner === undefined || winner.device === LOCAL) continue
        const local = group.find(c => c.device === LOCAL)
        // Like Syncthing: a deletion of something we never had needs nothing.
        const wanted = local === undefined ? !winner.deleted : ['newer', 'concurrent'].includes(compareVersions(winner.version, local.version))
        if (wanted) needed.push({ path: String(winner.row[COL.path]), winner: recordFromRow(winner.row), device: winner.device, localExists: local !== undefined && !local.deleted })
      }
      return needed
    },

    findChunk (hash) {
      if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) throw new InvalidInputError(`a chunk hash is ${HASH_BYTES} bytes`)
      return statements.findChunk.all(hash).map(row => ({
        folder: String(row.folder), path: String(row.path), offset: Number(row.offset), size: Number(row.size)
      }))
    },

    removeFolder (folder) {
      const id = folderRow(folder)?.id
      if (id === undefined) return
      transaction(() => {
        // Chunk rows are keyed by hash, so they are found from each file's list, like on an update.
        for (const row of statements.localChunkLists.all(id)) deleteLocalChunks(id, String(row.path), row.chunks as Uint8Array)
        statements.deleteFolderFiles.run(id)
        statements.deleteFolderPeers.run(id)
      })
    },

    close () {
      if (db.isOpen) db.close()
    },

    [Symbol.dispose] () {
      index.close()
    }
  }
  return index

  function checkRemoteDevice (deviceId: string): void {
    if (typeof deviceId !== 'string' || deviceId === '' || deviceId === LOCAL || deviceId === localDeviceId) {
      throw new InvalidInputError(`"${String(deviceId)}" is not a remote device id`)
    }
  }
}

function localRecord (content: Content & { path: string }, version: VersionVector, sequence: number, modifiedBy: string): FileRecord {
  const record: FileRecord = {
    path: content.path, type: content.type, size: content.size, mtimeMs: content.mtimeMs, mode: content.mode,
    deleted: content.deleted, chunks: content.chunks, version, sequence, modifiedBy
  }
  if (content.target !== undefined) record.target = content.target
  return record
}

function inodeProblem (inode: unknown): string | undefined {
  if (inode === undefined || (typeof inode === 'number' && Number.isFinite(inode) && inode >= 0)) return undefined
  return 'the inode is not a number >= 0'
}

/** A path as it can be shown safely in a message: quoted, escaped and not too long. */
function quote (path: unknown): string {
  const text = JSON.stringify(String(path))
  return text.length > 200 ? `${text.slice(0, 200)}…"` : text
}
