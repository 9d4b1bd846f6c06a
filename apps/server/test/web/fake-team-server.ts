import type { ChunkStoreStats } from '@aerie/core'
import type { FolderMembershipApi } from '../../src/web/folder-membership-api.ts'
import type { DeviceSummary, EnrollmentCodeIssued, FolderSummary, OrgSummary, TeamServerApi } from '../../src/team-server-api.ts'

/**
 * An in-memory TeamServerApi for the web layer's tests: the real server process (CA, libp2p,
 * store) is tested end to end elsewhere; here it records what the web layer asked of it.
 */
export interface FakeTeamServer extends TeamServerApi, FolderMembershipApi {
  issued: Array<{ user: string, deviceName?: string, ttlMs: number, code: string }>
  revoked: string[]
  memberChanges: Array<{ folder: string, deviceId: string, role: string }>
  deviceList: DeviceSummary[]
  folderList: FolderSummary[]
}

export function fakeTeamServer (): FakeTeamServer {
  const deviceList: DeviceSummary[] = [
    { deviceId: 'adalaptop0000001', deviceName: "Ada's laptop", user: 'ada@example.org', issuedAt: '2030-01-01T00:00:00.000Z', online: true, address: '/ip4/10.0.0.5/tcp/22000' },
    { deviceId: 'bobdesktop000002', deviceName: "Bob's desktop", user: 'bob@example.org', issuedAt: '2030-01-02T00:00:00.000Z', online: false, lastSeen: '2030-01-03T10:00:00.000Z' }
  ]
  const folderList: FolderSummary[] = [
    {
      id: 'team-docs', label: 'Team docs', owner: 'ada@example.org', files: 120, bytes: 3_000_000, online: ['adalaptop0000001'],
      members: [{ deviceId: 'adalaptop0000001', role: 'owner' }, { deviceId: 'bobdesktop000002', role: 'editor' }]
    },
    { id: 'bob-private', label: 'Bob private', owner: 'bob@example.org', files: 3, bytes: 1_000_000, online: [], members: [{ deviceId: 'bobdesktop000002', role: 'owner' }] }
  ]
  const issued: FakeTeamServer['issued'] = []
  const revoked: string[] = []
  const memberChanges: FakeTeamServer['memberChanges'] = []
  let serial = 0
  return {
    issued,
    revoked,
    memberChanges,
    deviceList,
    folderList,
    org: (): OrgSummary => ({ name: 'Example Org', caFingerprint: 'ab'.repeat(32), deviceId: 'server0000000000', addresses: ['/ip4/127.0.0.1/tcp/22000'] }),
    devices: () => deviceList.map(d => ({ ...d })),
    createEnrollmentCode ({ user, deviceName, ttlMs }): EnrollmentCodeIssued {
      const code = `aerie1-fakecode${String(++serial).padStart(4, '0')}`
      issued.push({ user, ...(deviceName === undefined ? {} : { deviceName }), ttlMs, code })
      return { code, user, ...(deviceName === undefined ? {} : { deviceName }), expiresAt: new Date(Date.now() + ttlMs).toISOString() }
    },
    async revokeDevice (device) {
      const found = deviceList.find(d => d.deviceId === device)
      if (found === undefined) throw new Error(`fake: no device ${device}`)
      revoked.push(device)
      found.revokedAt = new Date().toISOString()
      found.online = false
      return { ...found }
    },
    folders: () => folderList.map(f => ({ ...f, members: f.members.map(m => ({ ...m })) })),
    async setFolderMember (folder, deviceId, role) {
      const found = folderList.find(f => f.id === folder)
      if (found === undefined) throw new Error(`fake: no folder ${folder}`)
      memberChanges.push({ folder, deviceId, role })
      found.members = found.members.filter(m => m.deviceId !== deviceId)
      if (role !== 'remove') found.members.push({ deviceId, role })
      return { ...found, members: found.members.map(m => ({ ...m })) }
    },
    storage: async (): Promise<ChunkStoreStats> => ({ chunks: 40, uniqueBytes: 2_000_000, storedBytes: 2_100_000 })
  }
}
