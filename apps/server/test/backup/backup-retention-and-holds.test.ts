import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { backupAdmin } from '../../src/backup/backup-admin.ts'
import type { BackupSnapshotRecord } from '../../src/metadata/stores.ts'
import { addUser, setUpAdmin, startWebApp } from '../web/harness.ts'
import type { Client, RunningWebApp } from '../web/harness.ts'

const ADA = { deviceId: 'adalaptop0000001', deviceName: "Ada's laptop", user: 'ada@example.org' }
const BOB = { deviceId: 'bobdesktop000002', deviceName: "Bob's desktop", user: 'Bob@Example.org' }
const none = { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0 }

describe('backup retention and legal hold (admin API)', () => {
  let web: RunningWebApp
  let admin: Client
  let seq = 0
  const add = (device: typeof ADA, day: number): BackupSnapshotRecord => web.temp.metadata.backups.addSnapshot({
    ...device, id: `snap${String(++seq).padStart(4, '0')}`, root: '00'.repeat(32), paths: ['/home'], startedAt: new Date(Date.UTC(2030, 0, day)),
    committedAt: new Date(Date.UTC(2030, 0, day, 1)), counters: { files: 1 }, received: { chunks: 0, bytes: 0 }
  })
  const ids = (device: typeof ADA): string[] => web.temp.metadata.backups.listSnapshots({ deviceId: device.deviceId }).map(s => s.id)
  const actions = (): string[] => [...web.temp.metadata.audit.entries()].map(e => e.action).filter(a => a.startsWith('backup.'))

  beforeEach(async () => {
    seq = 0
    web = await startWebApp()
    web.api.backup = backupAdmin({ snapshots: web.temp.metadata.backups, audit: web.audit, log: () => {} })
    admin = await setUpAdmin(web.base)
    for (let day = 1; day <= 5; day++) { add(ADA, day); add(BOB, day) }
  })
  afterEach(async () => { await web[Symbol.asyncDispose]() })

  it('keeps everything until a policy is set; a default policy forgets what it does not keep, audited, and only records', async () => {
    expect((await admin.get('/api/v1/backup/retention/default')).body).toEqual({ scope: 'default', policy: null })
    expect((await admin.post('/api/v1/backup/retention/apply')).body).toEqual({ forgotten: [] })
    const set = await admin.request('PUT', '/api/v1/backup/retention/default', { ...none, last: 2 })
    expect(set.status).toBe(200)
    expect(set.body.forgotten).toHaveLength(6)
    expect(ids(ADA)).toEqual(['snap0007', 'snap0009'])
    expect(ids(BOB)).toEqual(['snap0008', 'snap0010'])
    expect(actions()).toEqual(['backup.retention_set', ...Array(6).fill('backup.snapshot_forgotten')])
    // A device's own policy wins over the default.
    expect((await admin.request('PUT', `/api/v1/backup/retention/${ADA.deviceId}`, { ...none, last: 1 })).body.forgotten).toEqual(['snap0007'])
    expect(ids(BOB)).toHaveLength(2)
    // Every policy set, in one list (what the console shows).
    expect((await admin.get('/api/v1/backup/retention')).body.policies).toEqual([
      { scope: 'default', policy: { ...none, last: 2 }, setBy: 'ada@example.org', setAt: expect.any(String) },
      { scope: ADA.deviceId, policy: { ...none, last: 1 }, setBy: 'ada@example.org', setAt: expect.any(String) }
    ])
  })

  it('a user\'s policy covers every device of theirs without its own, between the device\'s and the default', async () => {
    await admin.request('PUT', '/api/v1/backup/retention/default', { ...none, last: 4 })
    const set = await admin.request('PUT', '/api/v1/backup/retention/user:BOB@example.org', { ...none, last: 2 })
    expect(set.status).toBe(200)
    expect(ids(BOB)).toEqual(['snap0008', 'snap0010'])
    expect(ids(ADA)).toHaveLength(4)
    expect((await admin.get('/api/v1/backup/retention')).body.policies.map((p: { scope: string }) => p.scope)).toContain('user:bob@example.org')
    // The device's own policy still wins.
    await admin.request('PUT', `/api/v1/backup/retention/${BOB.deviceId}`, { ...none, last: 1 })
    expect(ids(BOB)).toEqual(['snap0010'])
    expect((await admin.delete('/api/v1/backup/retention/user:bob@example.org')).status).toBe(200)
    expect((await admin.request('PUT', '/api/v1/backup/retention/user:not-an-address', { ...none, last: 1 })).status).toBe(400)
  })

  it('keeps a snapshot another device may restore under a grant in force, and forgets it once the grant is revoked', async () => {
    const granted = await admin.post('/api/v1/backup/snapshots/snap0001/restore-grants', { device: BOB.deviceId, ttlMinutes: 60 })
    expect(granted.status).toBe(200)
    expect((await admin.request('PUT', `/api/v1/backup/retention/${ADA.deviceId}`, { ...none, last: 1 })).body.forgotten).toEqual(['snap0003', 'snap0005', 'snap0007'])
    expect(ids(ADA)).toEqual(['snap0001', 'snap0009'])
    expect((await admin.delete(`/api/v1/backup/restore-grants/${granted.body.grant.id as string}`)).status).toBe(200)
    expect((await admin.post('/api/v1/backup/retention/apply')).body.forgotten).toEqual(['snap0001'])
  })

  it('a hold on a user (any case) or a device stops retention until it is lifted', async () => {
    const hold = await admin.request('PUT', '/api/v1/backup/holds/user/bob@example.org', { reason: 'case 2030-17' })
    expect(hold.body.hold).toMatchObject({ kind: 'user', subject: 'bob@example.org', reason: 'case 2030-17', setBy: 'ada@example.org' })
    expect((await admin.request('PUT', `/api/v1/backup/holds/device/${ADA.deviceId}`, { reason: 'laptop seized' })).status).toBe(200)
    await admin.request('PUT', '/api/v1/backup/retention/default', { ...none, last: 1 })
    expect(ids(ADA)).toHaveLength(5)
    expect(ids(BOB)).toHaveLength(5)
    expect((await admin.get('/api/v1/backup/snapshots')).body.snapshots.every((s: { held: boolean }) => s.held)).toBe(true)
    // One snapshot's record alone, as its page asks for it.
    expect((await admin.get('/api/v1/backup/snapshots/snap0002')).body.snapshot).toMatchObject({ id: 'snap0002', deviceId: BOB.deviceId, held: true })

    const lifted = await admin.delete('/api/v1/backup/holds/user/BOB@example.org')
    expect(lifted.status).toBe(200)
    expect(lifted.body.forgotten).toEqual(['snap0002', 'snap0004', 'snap0006', 'snap0008'])
    expect(ids(ADA)).toHaveLength(5)
    expect((await admin.delete('/api/v1/backup/holds/user/bob@example.org')).status).toBe(404)
    await admin.delete(`/api/v1/backup/holds/device/${ADA.deviceId}`)
    expect(ids(ADA)).toEqual(['snap0009'])
    const audit = [...web.temp.metadata.audit.entries()]
    expect(audit.filter(e => e.action === 'backup.hold_set').map(e => e.target)).toEqual(['user:bob@example.org', `device:${ADA.deviceId}`])
    expect(audit.filter(e => e.action === 'backup.hold_lifted').map(e => e.target)).toEqual(['user:bob@example.org', `device:${ADA.deviceId}`])
  })

  it('a snapshot added after a policy is set is followed by retention at once', async () => {
    const admin2 = backupAdmin({ snapshots: web.temp.metadata.backups, audit: web.audit, log: () => {} })
    admin2.setRetention(ADA.deviceId, { ...none, daily: 2 }, 'test')
    add(ADA, 5) // a second snapshot on day 5 (committed at the same hour, later id)
    expect(admin2.applyRetention({ deviceId: ADA.deviceId }).map(s => s.id)).toEqual(['snap0001', 'snap0003', 'snap0005', 'snap0009'])
    expect(ids(ADA)).toEqual(['snap0007', 'snap0011'])
  })

  it('refuses users, unknown devices and malformed policies', async () => {
    const bob = await addUser(admin, 'bob@example.org')
    expect((await bob.get('/api/v1/backup/snapshots')).status).toBe(403)
    expect((await bob.get('/api/v1/backup/snapshots/snap0001')).status).toBe(403)
    expect((await admin.get('/api/v1/backup/snapshots/nosuchsnapshot')).status).toBe(404)
    expect((await admin.request('PUT', '/api/v1/backup/retention/nosuchdevice', { ...none, last: 1 })).status).toBe(404)
    expect((await admin.request('PUT', '/api/v1/backup/retention/default', { last: 1 })).status).toBe(400)
    expect((await admin.request('PUT', '/api/v1/backup/retention/default', { ...none, last: -1 })).status).toBe(400)
    expect((await admin.request('PUT', '/api/v1/backup/holds/team/x', { reason: 'x' })).status).toBe(400)
  })

  it('grants another device a snapshot, audited, and refuses unknown snapshots and devices', async () => {
    const granted = await admin.post('/api/v1/backup/snapshots/snap0001/restore-grants', { device: BOB.deviceId, ttlMinutes: 60 })
    expect(granted.status).toBe(200)
    expect(granted.body.grant).toMatchObject({ snapshotId: 'snap0001', deviceId: BOB.deviceId, grantedBy: 'ada@example.org' })
    expect(granted.body.command).toBe('aerie restore snap0001 --to DIR')
    expect(web.temp.metadata.backups.restoreGrants(BOB.deviceId, new Date()).map(g => g.snapshotId)).toEqual(['snap0001'])
    expect(web.temp.metadata.backups.restoreGrants(BOB.deviceId, new Date(Date.now() + 61 * 60_000))).toEqual([])
    expect(actions()).toContain('backup.restore_granted')
    expect((await admin.post('/api/v1/backup/snapshots/nosuch/restore-grants', { device: BOB.deviceId })).status).toBe(404)
    expect((await admin.post('/api/v1/backup/snapshots/snap0001/restore-grants', { device: 'nosuch' })).status).toBe(404)
  })
})
