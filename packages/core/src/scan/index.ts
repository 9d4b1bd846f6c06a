/** The scanner: a folder on disk -> changes in its index (see scanner.ts); the watcher says where to look. */
export { scanFolder } from './scanner.ts'
export type { BrakeReason, ScanOptions, ScanProgress, ScanResult } from './scanner.ts'
export { FOLDER_MARKER, isDirectory, readFolderMarker, TEMP_PREFIX, VERSIONS_DIR, writeFolderMarker } from './folder-marker.ts'
export { IGNORE_FILE, loadIgnoreRules, NO_IGNORE_FILE } from './ignore-rules.ts'
export type { IgnoreRules } from './ignore-rules.ts'
export { watchFolder } from './watcher.ts'
export type { FolderWatcher, WatchFolderOptions } from './watcher.ts'
