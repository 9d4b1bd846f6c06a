/**
 * Endpoint backup: snapshots of chosen paths as trees of content-addressed directory objects
 * (tree.ts) in the same chunk store as everything else, so equal content is stored once across
 * devices, folders and snapshots; the walker (backup-walker.ts) sends a repository only what it
 * lacks; the restore writer (restore.ts) verifies every chunk and replaces nothing unasked.
 *
 * @example
 * ```ts
 * import { backupPaths, restoreSnapshot, storeRepository, openPackStore } from '@aerie/core'
 *
 * const repo = storeRepository(await openPackStore({ dir: '/srv/store', dataKey }))
 * const { root, counters } = await backupPaths({ paths: ['/home/ann/Documents'], excludes: ['*.tmp'], target: repo })
 * await restoreSnapshot({ source: repo, root, path: '/home/ann/Documents', to: '/tmp/restored' })
 * ```
 */
export { BackupError, RestoreConflictError, RestoreIncompleteError, SnapshotIncompleteError, SnapshotNotFoundError } from './errors.ts'
export { chunkListsOf, decodeChunkList, decodeTree, encodeChunkList, encodeTree, fileChunks, getVerified, INLINE_CHUNKS, isEntryName, LIST_CHUNKS, MAX_TREE_BYTES, readTree, referencesOf, walkDirectories } from './tree.ts'
export type { BlobSource, EntryType, TreeEntry } from './tree.ts'
export { ChunkUploader, LACKS_BATCH, storeRepository } from './chunk-uploader.ts'
export type { BackupTarget } from './chunk-uploader.ts'
export { backupPaths, normalizePaths } from './backup-walker.ts'
export type { BackupCounters, BackupOptions, BackupProgress, BackupResult } from './backup-walker.ts'
export { findEntry, listEntries, restoreSnapshot } from './restore.ts'
export type { RestoreOptions, RestoreProgress, RestoreResult } from './restore.ts'
export { openRemoteRepository } from './remote-repository.ts'
export type { RemoteRepository } from './remote-repository.ts'
export { chooseSnapshots, isEmptyRetention, RETENTION_RULES } from './retention.ts'
export type { BackupRetention, RetentionChoice, RetentionRule } from './retention.ts'
