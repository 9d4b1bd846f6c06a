import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, Client, setUpAdmin, startWebApp } from './harness.ts'
import type { Json, RunningWebApp } from './harness.ts'

describe('admin API', () => {
  let web: RunningWebApp
  let admin: Client
  let bob: Client
  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    bob = await addUser(admin, 'bob@example.org')
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('lists users; a taken email is a conflict', async () => {
    const users = (await admin.get('/api/v1/users')).body.users
    expect(users.map((u: Json) => [u.email, u.role])).toEqual([['ada@example.org', 'admin'], ['bob@example.org', 'user']])
    expect(users[0]).not.toHaveProperty('passwordHash')
    const taken = await admin.post('/api/v1/users', { email: 'BOB@example.org', role: 'user', password: 'a long user passphrase' })
    expect(taken.status).toBe(409)
    expect(taken.body.error.code).toBe('ERR_CONFLICT')
  })

  it('shows a user their own devices and folders only; an admin all of them', async () => {
    expect((await bob.get('/api/v1/devices')).body.devices.map((d: Json) => d.deviceId)).toEqual(['bobdesktop000002'])
    expect((await admin.get('/api/v1/devices')).body.devices).toHaveLength(2)
    expect((await bob.get('/api/v1/folders')).body.folders.map((f: Json) => f.id)).toEqual(['team-docs', 'bob-private'])
    const carol = await addUser(admin, 'carol@example.org')
    expect((await carol.get('/api/v1/folders')).body.folders).toEqual([])
    expect((await carol.get('/api/v1/devices')).body.devices).toEqual([])
  })

  it('makes enrollment codes as text and QR code: a user for themselves, an admin for anyone', async () => {
    const own = await bob.post('/api/v1/enrollment-codes', { deviceName: 'Bob laptop', ttlMinutes: 30 })
    expect(own.status).toBe(200)
    expect(own.body).toMatchObject({ code: expect.stringMatching(/^aerie1-/), user: 'bob@example.org', deviceName: 'Bob laptop' })
    expect(own.body.qrSvg).toMatch(/^<svg/)
    expect(web.api.issued.at(-1)).toEqual({ user: 'bob@example.org', deviceName: 'Bob laptop', ttlMs: 30 * 60_000, code: own.body.code })
    const forOther = await bob.post('/api/v1/enrollment-codes', { user: 'ada@example.org' })
    expect(forOther.status).toBe(403)
    expect((await admin.post('/api/v1/enrollment-codes', { user: 'dave@example.org' })).status).toBe(200)
    const entry = web.audit.list({ limit: 5, action: 'enrollment_code.created' })
    expect(entry.map(e => [e.actor, e.target])).toEqual([['ada@example.org', 'dave@example.org'], ['bob@example.org', 'bob@example.org']])
    // The code itself is a secret: it is not in the audit log.
    expect(JSON.stringify(entry)).not.toContain(own.body.code)
  })

  it('revokes a device: a user only their own, an admin any (by id or name)', async () => {
    expect((await bob.post('/api/v1/devices/adalaptop0000001/revoke')).status).toBe(404)
    expect(web.api.revoked).toEqual([])
    const byName = await admin.post(`/api/v1/devices/${encodeURIComponent("Ada's laptop")}/revoke`)
    expect(byName.status).toBe(200)
    expect(byName.body.device).toMatchObject({ deviceId: 'adalaptop0000001', revokedAt: expect.any(String), online: false })
    const own = await bob.post('/api/v1/devices/bobdesktop000002/revoke')
    expect(own.status).toBe(200)
    expect(web.api.revoked).toEqual(['adalaptop0000001', 'bobdesktop000002'])
    // Never the server's own device.
    web.api.deviceList.push({ deviceId: 'server0000000000', deviceName: 'team-server', user: 'server@example.org', issuedAt: '2030-01-01T00:00:00.000Z', online: true })
    const server = await admin.post('/api/v1/devices/server0000000000/revoke')
    expect(server.status).toBe(409)
    expect(server.body.error.message).toMatch(/the team server itself/)
    web.api.deviceList.pop()
    expect(web.audit.list({ limit: 5, action: 'device.revoked' }).map(e => [e.actor, e.target])).toEqual([
      ['bob@example.org', 'bobdesktop000002'], ['ada@example.org', 'adalaptop0000001']
    ])
  })

  it('issues API tokens that act as their user until revoked', async () => {
    const created = await bob.post('/api/v1/tokens', { name: 'nightly report' })
    expect(created.status).toBe(200)
    const bot = new Client(web.base)
    bot.bearer = created.body.token
    expect((await bot.get('/api/v1/me')).body.user.email).toBe('bob@example.org')
    expect((await bot.get('/api/v1/users')).status).toBe(403)
    const listed = (await bob.get('/api/v1/tokens')).body.tokens
    expect(listed).toEqual([expect.objectContaining({ id: created.body.record.id, name: 'nightly report', lastUsedAt: expect.any(String) })])
    expect(JSON.stringify(listed)).not.toContain(created.body.token)
    // A token cannot change how its user signs in, nor make more tokens.
    for (const [path, body] of [['/api/v1/me/totp', {}], ['/api/v1/me/password', { currentPassword: 'a long user passphrase', newPassword: 'another long passphrase' }], ['/api/v1/tokens', { name: 'more' }]] as const) {
      const refused = await bot.post(path, body)
      expect(refused.status, path).toBe(403)
      expect(refused.body.error.message).toMatch(/API token cannot/)
    }
    expect((await admin.get('/api/v1/tokens')).body.tokens.map((t: Json) => t.id)).not.toContain(created.body.record.id)
    const revoked = await bob.delete(`/api/v1/tokens/${created.body.record.id}`)
    expect(revoked.body.token.revokedAt).toEqual(expect.any(String))
    expect((await bot.get('/api/v1/me')).status).toBe(401)
    expect(web.audit.list({ limit: 5, actor: 'bob@example.org' }).map(e => e.action)).toEqual(expect.arrayContaining(['api_token.created', 'api_token.revoked']))
  })

  it('disabling a user ends their sessions and stops their tokens; the last admin cannot be disabled', async () => {
    const erin = await addUser(admin, 'erin@example.org')
    const token = (await erin.post('/api/v1/tokens', { name: 'laptop script' })).body.token
    const erinId = (await erin.get('/api/v1/me')).body.user.id
    const disabled = await admin.post(`/api/v1/users/${erinId}/disable`)
    expect(disabled.body.user.disabled).toBe(true)
    expect((await erin.get('/api/v1/me')).status).toBe(401)
    const bot = new Client(web.base)
    bot.bearer = token
    expect((await bot.get('/api/v1/me')).status).toBe(401)
    const login = await new Client(web.base).post('/api/v1/login', { email: 'erin@example.org', password: 'a long user passphrase' })
    expect(login.status).toBe(401)
    expect(login.body.error.message).toMatch(/disabled/)
    expect((await admin.post(`/api/v1/users/${erinId}/enable`)).body.user.disabled).toBe(false)

    const adaId = (await admin.get('/api/v1/me')).body.user.id
    expect((await admin.post(`/api/v1/users/${adaId}/disable`)).status).toBe(409)
    expect((await admin.post('/api/v1/users/no-such-user/disable')).status).toBe(404)
  })

  it('lets an admin add, re-role and remove folder members, never the owner, and audits each change', async () => {
    web.api.deviceList.push({ deviceId: 'carolphone000003', deviceName: 'Carol phone', user: 'carol@example.org', issuedAt: '2030-01-04T00:00:00.000Z', online: false })
    const added = await admin.request('PUT', '/api/v1/folders/bob-private/members/carolphone000003', { role: 'viewer' })
    expect(added.status).toBe(200)
    expect(added.body.folder.members).toEqual([{ deviceId: 'bobdesktop000002', role: 'owner' }, { deviceId: 'carolphone000003', role: 'viewer' }])
    expect((await admin.request('PUT', '/api/v1/folders/bob-private/members/carolphone000003', { role: 'editor' })).status).toBe(200)
    expect((await admin.delete('/api/v1/folders/bob-private/members/carolphone000003')).status).toBe(200)
    expect(web.api.memberChanges).toEqual([
      { folder: 'bob-private', deviceId: 'carolphone000003', role: 'viewer' },
      { folder: 'bob-private', deviceId: 'carolphone000003', role: 'editor' },
      { folder: 'bob-private', deviceId: 'carolphone000003', role: 'remove' }
    ])
    const owner = await admin.request('PUT', '/api/v1/folders/bob-private/members/bobdesktop000002', { role: 'viewer' })
    expect(owner.status).toBe(409)
    expect((await admin.request('PUT', '/api/v1/folders/bob-private/members/nosuchdevice', { role: 'viewer' })).status).toBe(404)
    expect((await admin.request('PUT', '/api/v1/folders/nosuchfolder/members/carolphone000003', { role: 'viewer' })).status).toBe(404)
    expect((await admin.request('PUT', '/api/v1/folders/bob-private/members/carolphone000003', { role: 'owner' })).status).toBe(400)
    expect((await bob.request('PUT', '/api/v1/folders/bob-private/members/carolphone000003', { role: 'viewer' })).status).toBe(403)
    const audited = web.audit.list({ limit: 3, actor: 'ada@example.org' }).filter(e => e.action.startsWith('folder.'))
    expect(audited.map(e => [e.action, e.target, e.detail.role ?? null])).toEqual([
      ['folder.member_removed', 'bob-private', null], ['folder.member_set', 'bob-private', 'editor'], ['folder.member_set', 'bob-private', 'viewer']
    ])
  })

  it('shows the dashboard: devices online, folders, storage and the dedupe ratio', async () => {
    const dashboard = (await admin.get('/api/v1/dashboard')).body
    expect(dashboard.folders).toEqual({ count: 2, files: 123, bytes: 4_000_000 })
    expect(dashboard.storage).toEqual({ chunks: 40, uniqueBytes: 2_000_000, storedBytes: 2_100_000, dedupeRatio: 2 })
    expect(dashboard.org.name).toBe('Example Org')
  })

  it('lists the audit log with filters, pages back, and verifies the chain', async () => {
    const all = (await admin.get('/api/v1/audit?limit=3')).body
    expect(all.entries).toHaveLength(3)
    expect(all.more).toBe(true)
    const next = (await admin.get(`/api/v1/audit?limit=3&before=${all.entries[2].seq}`)).body
    expect(next.entries[0].seq).toBe(all.entries[2].seq - 1)
    const failures = (await admin.get('/api/v1/audit?action=device.revoked&actor=bob%40example.org')).body.entries
    expect(failures.map((e: Json) => e.target)).toEqual(['bobdesktop000002'])
    const future = (await admin.get('/api/v1/audit?since=2999-01-01T00:00:00Z')).body.entries
    expect(future).toEqual([])
    const verified = await admin.post('/api/v1/audit/verify')
    expect(verified.body).toMatchObject({ ok: true, entries: expect.any(Number), head: { seq: expect.any(Number) } })
    expect((await admin.get('/api/v1/audit?action=audit.verified')).body.entries).toHaveLength(1)
  })
})
