/** The scanner: a folder on disk -> changes in its index (see scanner.ts). */
export { scanFolder } from './scanner.ts'
export type { BrakeReason, ScanOptions, ScanProgress, ScanResult } from './scanner.ts'
export { FOLDER_MARKER, isDirectory, readFolderMarker, writeFolderMarker } from './folder-marker.ts'
