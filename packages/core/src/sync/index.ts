/** Folders on this device and, as it grows, their exchange with peers. */
export { brakeAdvice, FolderRunner } from './folder-runner.ts'
export type { FolderRunnerInit, FolderState, FolderStatus } from './folder-runner.ts'
export { assertNoSymlinkParents, DEFAULT_RETENTION, openVersionHistory, VERSIONS_DIR } from './version-history.ts'
export type { FileVersion, RetentionPolicy, VersionHistory } from './version-history.ts'
export { canWrite, changeMember, createMembership, roleOf, verifyMembership } from './membership.ts'
export type { FolderMember, FolderRole, MemberChange, MembershipRecord, SignedMembership, VerifyMembershipOptions } from './membership.ts'
export { openMembershipStore } from './membership-store.ts'
export type { MembershipStore, MembershipStoreOptions, OfferResult } from './membership-store.ts'
