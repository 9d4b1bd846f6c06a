import type { FolderSummary, TeamServerApi } from '../team-server-api.ts'

/**
 * What the console needs beyond TeamServerApi to manage folder members. Optional until the
 * server process implements it (CentralCopy.share does the work): without it the membership
 * routes answer ERR_NOT_CONFIGURED and the console shows members read-only.
 */
export interface FolderMembershipApi {
  /** Adds, re-roles or removes a member (never the owner); the server signs the new membership record and sends it to the members. */
  setFolderMember (folder: string, deviceId: string, role: 'editor' | 'viewer' | 'remove'): Promise<FolderSummary>
}

export type WebTeamServerApi = TeamServerApi & Partial<FolderMembershipApi>
