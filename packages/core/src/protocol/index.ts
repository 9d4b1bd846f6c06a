/** Wire messages: one module per protocol, each with its schema checks and limits (docs/protocol.md). */
export { messageChannel } from './message-channel.ts'
export type { MessageChannel } from './message-channel.ts'
export { encodeIndexMessage, INDEX_BATCH, INDEX_PROTOCOL, MAX_INDEX_MESSAGE, parseIndexMessage } from './index-messages.ts'
export type { FolderMessage, IndexMessage, IndexProtocolMessage } from './index-messages.ts'
export {
  CHUNK_NOT_FOUND, CHUNK_OK, CHUNK_PROTOCOL, CHUNK_REFUSED, chunkResponse, encodeChunkRequest, MAX_CHUNK_REQUEST,
  MAX_CHUNK_REQUEST_MESSAGE, MAX_CHUNK_RESPONSE, parseChunkRequest
} from './chunk-messages.ts'
export type { ChunkRequest } from './chunk-messages.ts'
export { MAX_VERSIONS_LISTED, MAX_VERSIONS_REQUEST, MAX_VERSIONS_RESPONSE, parseVersionsRequest, parseVersionsResponse, VERSIONS_PROTOCOL } from './version-messages.ts'
export type { ServerVersion, VersionsRequest, VersionsResponse } from './version-messages.ts'
export { answerOnce, requestOnce } from './request-once.ts'
export type { OnceLimits } from './request-once.ts'
export { MAX_SHARE_REQUEST, MAX_SHARE_RESPONSE, parseShareRequest, parseShareResponse, SHARE_PROTOCOL } from './share-messages.ts'
export type { DeviceShareRequest, DeviceShareResponse, ShareCreateRequest, ShareSummary } from './share-messages.ts'
export {
  BACKUP_ERROR, BACKUP_GET, BACKUP_LACKS, BACKUP_NOT_FOUND, BACKUP_OK, BACKUP_OK_COMPRESSED, BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0, BACKUP_PUT, BACKUP_PUT_COMPRESSED, BACKUP_REFUSED, BACKUP_REQUEST, BACKUP_WINDOW,
  backupFrame, backupFrameParts, MAX_BACKUP_BLOB, MAX_BACKUP_FRAME, MAX_BACKUP_JSON, MAX_LACKS, parseBackupRequest, parseBackupResponse, parseSnapshotSummary, readSizeField, sizeField
} from './backup-messages.ts'
export type { BackupRequest, BackupResponse, FrameParts, NewSnapshot, OpenPurpose, SnapshotSummary } from './backup-messages.ts'
