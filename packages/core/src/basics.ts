/**
 * `@aerie/core/basics`: the errors and small helpers (files, durations, advice), without the engine.
 * Importing `@aerie/core` loads libp2p, node-forge and the rest (≈ 0.4 s); a command that
 * only talks to the running agent needs no more than this (a few ms).
 */
export * from './errors.ts'
export { writeFileAtomic } from './util/atomic-file.ts'
export { parseDuration } from './util/duration.ts'
export { parseRate } from './util/rate.ts'
export { formatBytes } from './util/format-bytes.ts'
export { KEEP_FREE_SHARE } from './util/disk-room.ts'
export { brakeAdvice } from './sync/brake-advice.ts'
export { isDirectory, readFolderMarker, writeFolderMarker } from './scan/folder-marker.ts'
export { AGENT_V8_FLAGS, restartWithV8Flags } from './net/heap-tuning.ts'
