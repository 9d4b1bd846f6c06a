/** Folders on this device and, as it grows, their exchange with peers. */
export { brakeAdvice, FolderRunner } from './folder-runner.ts'
export type { FolderRunnerInit, FolderState, FolderStatus } from './folder-runner.ts'
export { assertNoSymlinkParents, DEFAULT_RETENTION, openVersionHistory, VERSIONS_DIR } from './version-history.ts'
export type { FileVersion, RetentionPolicy, VersionHistory } from './version-history.ts'
