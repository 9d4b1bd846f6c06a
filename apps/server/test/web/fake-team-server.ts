import { InvalidInputError } from '@aerie/core'
import type { ChunkStoreStats, FileIdentity, RetentionPolicy, ServerVersion } from '@aerie/core'
import type { DeviceSummary, EnrollmentCodeIssued, FolderEntry, FolderSummary, OrgSummary, TeamServerApi } from '../../src/team-server-api.ts'

/**
 * An in-memory TeamServerApi for the web layer's tests: the real server process (CA, libp2p,
 * store) is tested end to end elsewhere; here it records what the web layer asked of it.
 */
export interface FakeTeamServer extends TeamServerApi {
  issued: Array<{ user: string, deviceName?: string, ttlMs: number, code: string }>
  revoked: string[]
  memberChanges: Array<{ folder: string, deviceId: string, role: string }>
  restores: Array<{ folder: string, path: string, at: Date, actor: string }>
  entries: Map<string, FolderEntry[]>
  versionList: Map<string, ServerVersion[]>
  policies: Map<string, RetentionPolicy>
  /** File contents by `folder/path`. */
  contents: Map<string, Uint8Array>
  /** Versions a write replaced, by `folder/path` (the history; clear it to play pruning). */
  kept: Map<string, Array<{ bytes: Uint8Array, mtimeMs: number }>>
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
      members: [{ deviceId: 'adalaptop0000001', role: 'owner' }, { deviceId: 'bobdesktop000002', role: 'editor' }],
      users: []
    },
    { id: 'bob-private', label: 'Bob private', owner: 'bob@example.org', files: 3, bytes: 1_000_000, online: [], members: [{ deviceId: 'bobdesktop000002', role: 'owner' }], users: [] }
  ]
  const issued: FakeTeamServer['issued'] = []
  const revoked: string[] = []
  const memberChanges: FakeTeamServer['memberChanges'] = []
  const restores: FakeTeamServer['restores'] = []
  const entries = new Map<string, FolderEntry[]>([['team-docs/', [
    { name: 'plans', path: 'plans', type: 'dir', size: 0, mtimeMs: Date.parse('2030-01-01T09:00:00Z'), deleted: false, modifiedBy: 'adalaptop0000001' },
    { name: 'budget.xlsx', path: 'budget.xlsx', type: 'file', size: 48_000, mtimeMs: Date.parse('2030-01-02T10:00:00Z'), deleted: false, modifiedBy: 'adalaptop0000001' },
    { name: 'old notes.txt', path: 'old notes.txt', type: 'file', size: 0, mtimeMs: Date.parse('2030-01-02T11:00:00Z'), deleted: true, modifiedBy: 'bobdesktop000002' }
  ]], ['team-docs/plans', [
    { name: 'q1.md', path: 'plans/q1.md', type: 'file', size: 1_200, mtimeMs: Date.parse('2030-01-01T09:00:00Z'), deleted: false, modifiedBy: 'adalaptop0000001' }
  ]]])
  const versionList = new Map<string, ServerVersion[]>([['team-docs/budget.xlsx', [
    { path: 'budget.xlsx', size: 48_000, mtimeMs: Date.parse('2030-01-02T10:00:00Z'), modifiedBy: 'adalaptop0000001', deleted: false },
    { path: 'budget.xlsx', size: 41_000, mtimeMs: Date.parse('2030-01-01T10:00:00Z'), modifiedBy: 'bobdesktop000002', deleted: false, replacedAt: '2030-01-02T10:00:01.000Z' }
  ]], ['team-docs/old notes.txt', [
    { path: 'old notes.txt', size: 0, mtimeMs: Date.parse('2030-01-02T11:00:00Z'), modifiedBy: 'bobdesktop000002', deleted: true },
    { path: 'old notes.txt', size: 900, mtimeMs: Date.parse('2030-01-01T08:00:00Z'), modifiedBy: 'bobdesktop000002', deleted: false, replacedAt: '2030-01-02T11:00:02.000Z' }
  ]]])
  const policies = new Map<string, RetentionPolicy>()
  const contents = new Map<string, Uint8Array>()
  // When each file in `contents` was last written (the fake's clock: one step per write).
  const written = new Map<string, number>()
  const kept = new Map<string, Array<{ bytes: Uint8Array, mtimeMs: number }>>()
  /** The bytes of a file in the version `identity` names (current or kept), as the real server finds them. */
  const versionOf = (folder: string, path: string, identity?: FileIdentity): { bytes: Uint8Array, mtimeMs: number } | undefined => {
    const key = `${folder}/${path}`
    const bytes = contents.get(key)
    const versions = [...(bytes === undefined ? [] : [{ bytes, mtimeMs: written.get(key) ?? 0 }]), ...(kept.get(key) ?? [])]
    return identity === undefined ? versions[0] : versions.find(v => v.bytes.byteLength === identity.size && v.mtimeMs === identity.mtimeMs && identity.modifiedBy === 'server0000000000')
  }
  let clock = Date.parse('2030-01-05T00:00:00Z')
  const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1)
  const entryFor = (folder: string, path: string): FolderEntry | undefined => {
    const bytes = contents.get(`${folder}/${path}`)
    if (bytes !== undefined) return { name: nameOf(path), path, type: 'file', size: bytes.byteLength, mtimeMs: written.get(`${folder}/${path}`) ?? 0, deleted: false, modifiedBy: 'server0000000000' }
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
    const listed = entries.get(`${folder}/${dir}`)?.find(e => e.path === path)
    if (listed !== undefined) return listed
    // A directory that holds files in `contents`.
    if ([...contents.keys()].some(k => k.startsWith(`${folder}/${path}/`))) return { name: nameOf(path), path, type: 'dir', size: 0, mtimeMs: 0, deleted: false, modifiedBy: 'server0000000000' }
    return undefined
  }
  /** What `contents` holds directly under `dir`: its files and the directories on the way to deeper ones. */
  const contentsUnder = (folder: string, dir: string): FolderEntry[] => {
    const prefix = `${folder}/${dir === '' ? '' : `${dir}/`}`
    const names = new Set<string>()
    for (const key of contents.keys()) if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0]!)
    return [...names].map(name => entryFor(folder, dir === '' ? name : `${dir}/${name}`)!)
  }
  const folderOf = (id: string): FolderSummary => {
    const found = folderList.find(f => f.id === id)
    if (found === undefined) throw new Error(`fake: no folder ${id}`)
    return found
  }
  let serial = 0
  return {
    issued,
    revoked,
    memberChanges,
    restores,
    entries,
    versionList,
    policies,
    contents,
    kept,
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
    async setFolderUser (folder, user, role) {
      const found = folderList.find(f => f.id === folder)
      if (found === undefined) throw new Error(`fake: no folder ${folder}`)
      memberChanges.push({ folder, deviceId: `user:${user}`, role })
      found.users = found.users.filter(u => u.user !== user)
      if (role !== 'remove') found.users.push({ user, role })
      return { ...found, members: found.members.map(m => ({ ...m })), users: found.users.map(u => ({ ...u })) }
    },
    listFolder (folder, dir) {
      folderOf(folder)
      const listed = (entries.get(`${folder}/${dir}`) ?? []).map(e => ({ ...e }))
      return [...listed, ...contentsUnder(folder, dir).filter(e => !listed.some(l => l.path === e.path))]
    },
    versions (folder, path) {
      folderOf(folder)
      return (versionList.get(`${folder}/${path}`) ?? []).map(v => ({ ...v }))
    },
    // Like the real one: the version current at `at` becomes the newest, the current one is kept, a deleted file comes back.
    async restoreVersion (folder, path, at, actor) {
      folderOf(folder)
      const list = versionList.get(`${folder}/${path}`) ?? []
      const version = list.find(v => v.replacedAt !== undefined && !v.deleted && Date.parse(v.replacedAt) > at.getTime() && v.mtimeMs <= at.getTime())
      if (version === undefined) throw new InvalidInputError(`the team server keeps no version of "${path}" in folder ${folder} that was current at ${at.toISOString()}`)
      restores.push({ folder, path, at, actor })
      const restored: ServerVersion = { path, size: version.size, mtimeMs: version.mtimeMs, modifiedBy: 'server0000000000', deleted: false }
      const now = new Date().toISOString()
      versionList.set(`${folder}/${path}`, [restored, ...list.flatMap(v => v.replacedAt !== undefined ? [v] : v.deleted ? [] : [{ ...v, replacedAt: now }])])
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
      const entry = entries.get(`${folder}/${dir}`)?.find(e => e.path === path)
      if (entry !== undefined) Object.assign(entry, { size: restored.size, mtimeMs: restored.mtimeMs, deleted: false, modifiedBy: restored.modifiedBy })
      return { ...restored }
    },
    fileInfo (folder, path, version) {
      folderOf(folder)
      if (version !== undefined) {
        const found = versionOf(folder, path, version)
        return found === undefined ? undefined : { name: nameOf(path), path, type: 'file', size: found.bytes.byteLength, mtimeMs: found.mtimeMs, deleted: false, modifiedBy: 'server0000000000' }
      }
      const entry = entryFor(folder, path)
      return entry === undefined ? undefined : { ...entry }
    },
    walkFolder (folder, dir) {
      folderOf(folder)
      const prefix = `${folder}/${dir === '' ? '' : `${dir}/`}`
      return [...contents.keys()].filter(k => k.startsWith(prefix)).sort().map(k => entryFor(folder, k.slice(folder.length + 1))!)
    },
    async * readFile (folder, path, range, version) {
      const bytes = versionOf(folder, path, version)?.bytes
      if (bytes === undefined) throw new Error(`fake: no file ${path}`)
      // In pieces, as the store yields chunks.
      const start = range?.start ?? 0
      const end = range?.end ?? bytes.byteLength
      for (let at = start; at < end; at += 64 * 1024) yield bytes.subarray(at, Math.min(end, at + 64 * 1024))
    },
    async writeFile (folder, path, source) {
      folderOf(folder)
      const parts: Uint8Array[] = []
      for await (const part of source) parts.push(part)
      const previous = versionOf(folder, path)
      if (previous !== undefined) kept.set(`${folder}/${path}`, [previous, ...(kept.get(`${folder}/${path}`) ?? [])])
      contents.set(`${folder}/${path}`, Buffer.concat(parts))
      written.set(`${folder}/${path}`, clock += 1000)
      return entryFor(folder, path)!
    },
    retention (folder) {
      folderOf(folder)
      return { ...(policies.get(folder) ?? { keepVersions: 30, maxAgeDays: 90 }) }
    },
    setRetention (folder, policy) {
      folderOf(folder)
      policies.set(folder, { ...policy })
      return { ...policy }
    },
    storage: async (): Promise<ChunkStoreStats> => ({ chunks: 40, uniqueBytes: 2_000_000, storedBytes: 2_100_000 })
  }
}
