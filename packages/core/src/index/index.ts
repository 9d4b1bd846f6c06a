/**
 * A device's folder index: its own file records per folder, its copy of each peer's, version
 * vectors, sequence numbers for incremental index exchange, the global version of each path,
 * what this device needs, and where a chunk already is (dedupe). One node:sqlite file per device.
 *
 * @example
 * ```ts
 * import { openFolderIndex } from './index/index.ts'
 *
 * using index = openFolderIndex('/var/lib/aerie/index.sqlite', myDeviceId)
 * index.updateLocal('photos', [{ path: 'a.jpg', type: 'file', size: 5, mtimeMs: Date.now(), mode: 0o644, deleted: false, chunks: [{ hash, size: 5 }] }])
 * const toSend = index.localSince('photos', peerHasUpTo, 1000)
 * index.applyRemote('photos', peerDeviceId, recordsFromPeer)
 * for (const { path, winner, device } of index.need('photos')) console.log('pull', path, 'from', device)
 * ```
 */
export { openFolderIndex, LOCAL } from './folder-index.ts'
export type { FolderIndex, GlobalRecord } from './folder-index.ts'
export type { ChunkRef, FileRecord, FileType, LocalChange, LocalStat } from './types.ts'
export { compareVersions, mergeVersions, bumpVersion, encodeVersion } from './version-vector.ts'
export type { VersionVector, VersionOrder } from './version-vector.ts'
export { pathProblem, isValidPath, PATH_RULE } from './path-rules.ts'
