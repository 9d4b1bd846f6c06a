import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'

// Browsing the central copy, its versions, restores and retention, over HTTP against the fake server.
// Bob's desktop is an editor of team-docs, Carol's phone a viewer; Dave has no device at all.
describe('folder files, versions and retention', () => {
  let web: RunningWebApp
  let admin: Client
  let bob: Client
  let carol: Client
  let dave: Client
  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    bob = await addUser(admin, 'bob@example.org')
    carol = await addUser(admin, 'carol@example.org')
    dave = await addUser(admin, 'dave@example.org')
    web.api.deviceList.push({ deviceId: 'carolphone000003', deviceName: 'Carol phone', user: 'carol@example.org', issuedAt: '2030-01-04T00:00:00.000Z', online: false })
    web.api.folderList[0]!.members.push({ deviceId: 'carolphone000003', role: 'viewer' })
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  const restore = (client: Client, path: string, at: string, folder = 'team-docs') => client.post(`/api/v1/folders/${folder}/restore`, { path, at })
  // A version is named by a moment it was current: just before it was replaced (as the console does).
  const justBefore = (iso: string): string => new Date(Date.parse(iso) - 1).toISOString()

  it('lists a directory of a folder, deleted files included, to its members and to admins', async () => {
    const root = await bob.get('/api/v1/folders/team-docs/files')
    expect(root.status).toBe(200)
    expect(root.body.dir).toBe('')
    expect(root.body.canRestore).toBe(true)
    expect(root.body.entries.map((e: Json) => [e.name, e.type, e.deleted])).toEqual([
      ['plans', 'dir', false], ['budget.xlsx', 'file', false], ['old notes.txt', 'file', true]
    ])
    expect(root.body.entries[1]).toEqual({ name: 'budget.xlsx', path: 'budget.xlsx', type: 'file', size: 48_000, mtimeMs: Date.parse('2030-01-02T10:00:00Z'), deleted: false, modifiedBy: 'adalaptop0000001' })
    const plans = await admin.get('/api/v1/folders/team-docs/files?dir=plans')
    expect(plans.body.entries.map((e: Json) => e.path)).toEqual(['plans/q1.md'])
    expect(plans.body.canRestore).toBe(true)
    // A viewer browses, but may not restore.
    expect((await carol.get('/api/v1/folders/team-docs/files')).body.canRestore).toBe(false)
  })

  it('answers 404 for a folder the user has no device in, as for one that does not exist', async () => {
    for (const path of ['/files', '/files?dir=plans', '/versions?path=budget.xlsx', '/retention']) {
      const hidden = await dave.get(`/api/v1/folders/team-docs${path}`)
      expect(hidden.status, path).toBe(404)
      expect(hidden.body.error.code).toBe('ERR_NOT_FOUND')
      expect((await carol.get(`/api/v1/folders/bob-private${path}`)).status, path).toBe(404)
      expect((await admin.get(`/api/v1/folders/no-such-folder${path}`)).status, path).toBe(404)
    }
    expect((await restore(dave, 'budget.xlsx', '2030-01-02T00:00:00Z')).status).toBe(404)
    expect((await restore(admin, 'budget.xlsx', '2030-01-02T00:00:00Z', 'no-such-folder')).status).toBe(404)
    expect(web.api.restores).toEqual([])
  })

  it('lists the versions of a file, the current one first', async () => {
    const versions = await carol.get('/api/v1/folders/team-docs/versions?path=budget.xlsx')
    expect(versions.status).toBe(200)
    expect(versions.body.versions).toEqual([
      { path: 'budget.xlsx', size: 48_000, mtimeMs: Date.parse('2030-01-02T10:00:00Z'), modifiedBy: 'adalaptop0000001', deleted: false },
      { path: 'budget.xlsx', size: 41_000, mtimeMs: Date.parse('2030-01-01T10:00:00Z'), modifiedBy: 'bobdesktop000002', deleted: false, replacedAt: '2030-01-02T10:00:01.000Z' }
    ])
    expect((await carol.get('/api/v1/folders/team-docs/versions?path=nothing-here.txt')).body.versions).toEqual([])
  })

  it('restores a version for an editor, audited; refuses a viewer (403)', async () => {
    const refused = await restore(carol, 'budget.xlsx', justBefore('2030-01-02T10:00:01.000Z'))
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toMatch(/editor or the owner/)
    expect(web.api.restores).toEqual([])

    const restored = await restore(bob, 'budget.xlsx', justBefore('2030-01-02T10:00:01.000Z'))
    expect(restored.status).toBe(200)
    expect(restored.body.version).toMatchObject({ path: 'budget.xlsx', size: 41_000, deleted: false })
    expect(restored.body.version).not.toHaveProperty('replacedAt')
    expect(web.api.restores).toEqual([{ folder: 'team-docs', path: 'budget.xlsx', at: new Date('2030-01-02T10:00:00.999Z'), actor: 'bob@example.org' }])
    const [entry] = web.audit.list({ limit: 1, action: 'version.restored' })
    expect(entry).toMatchObject({ actor: 'bob@example.org', target: 'team-docs/budget.xlsx', detail: { at: '2030-01-02T10:00:00.999Z', modified: '2030-01-01T10:00:00.000Z' } })
  })

  it('brings back a deleted file (an admin may restore in any folder)', async () => {
    const restored = await restore(admin, 'old notes.txt', justBefore('2030-01-02T11:00:02.000Z'))
    expect(restored.status).toBe(200)
    expect(restored.body.version).toMatchObject({ path: 'old notes.txt', size: 900, deleted: false })
    const root = await admin.get('/api/v1/folders/team-docs/files')
    expect(root.body.entries.find((e: Json) => e.name === 'old notes.txt').deleted).toBe(false)
    expect(web.audit.list({ limit: 1, action: 'version.restored' })[0]).toMatchObject({ actor: 'ada@example.org', target: 'team-docs/old notes.txt' })
  })

  it('says so when no version was current at the time given (400)', async () => {
    const before = web.api.restores.length
    const none = await restore(bob, 'budget.xlsx', '2020-01-01T00:00:00Z')
    expect(none.status).toBe(400)
    expect(none.body.error).toEqual({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(/keeps no version of "budget.xlsx"/) })
    const leapSecond = await restore(bob, 'budget.xlsx', '2030-06-30T23:59:60Z')
    expect(leapSecond.status).toBe(400)
    const notATime = await restore(bob, 'budget.xlsx', 'yesterday')
    expect(notATime.status).toBe(400)
    expect(notATime.body.error.message).toMatch(/must match format "date-time"/)
    expect(web.api.restores.length).toBe(before)
  })

  it('refuses paths outside the folder with 400 and a reason', async () => {
    const bad: Array<[string, RegExp]> = [
      ['/etc/passwd', /absolute/],
      ['../other-folder/secret', /'\.\.' segment/],
      ['plans/../../x', /'\.\.' segment/],
      ['plans\\q1.md', /'\\'/],
      ['plans//q1.md', /empty segment/],
      ['plans/', /empty segment/],
      ['x'.repeat(4097), /must NOT have more than 4096 characters/]
    ]
    for (const [path, reason] of bad) {
      const query = new URLSearchParams({ path }).toString()
      for (const response of [
        await bob.get(`/api/v1/folders/team-docs/versions?${query}`),
        await bob.get(`/api/v1/folders/team-docs/files?${new URLSearchParams({ dir: path })}`),
        await restore(bob, path, '2030-01-02T00:00:00Z')
      ]) {
        expect(response.status, path).toBe(400)
        expect(response.body.error.code, path).toBe('ERR_INVALID_INPUT')
        expect(response.body.error.message, path).toMatch(reason)
      }
    }
    // The root is a directory to list, never a file to restore.
    const root = await restore(bob, '', '2030-01-02T00:00:00Z')
    expect(root.status).toBe(400)
    expect(root.body.error.message).toMatch(/path "" is not a path inside the folder \(the path is empty\)/)
    expect((await bob.get('/api/v1/folders/team-docs/versions')).status).toBe(400)
  })

  it('shows the retention policy to members; an admin changes it, audited', async () => {
    expect((await carol.get('/api/v1/folders/team-docs/retention')).body).toEqual({ keepVersions: 30, maxAgeDays: 90 })
    const byUser = await bob.request('PUT', '/api/v1/folders/team-docs/retention', { keepVersions: 5, maxAgeDays: 0 })
    expect(byUser.status).toBe(403)
    const changed = await admin.request('PUT', '/api/v1/folders/team-docs/retention', { keepVersions: 5, maxAgeDays: 0 })
    expect(changed.status).toBe(200)
    expect(changed.body).toEqual({ keepVersions: 5, maxAgeDays: 0 })
    expect(web.api.policies.get('team-docs')).toEqual({ keepVersions: 5, maxAgeDays: 0 })
    expect((await bob.get('/api/v1/folders/team-docs/retention')).body).toEqual({ keepVersions: 5, maxAgeDays: 0 })
    expect(web.audit.list({ limit: 1, action: 'folder.retention_changed' })[0]).toMatchObject({
      actor: 'ada@example.org', target: 'team-docs', detail: { keepVersions: 5, maxAgeDays: 0, previousKeepVersions: 30, previousMaxAgeDays: 90 }
    })
    expect((await admin.request('PUT', '/api/v1/folders/no-such-folder/retention', { keepVersions: 5, maxAgeDays: 0 })).status).toBe(404)
  })

  it('refuses a retention policy out of bounds with 400 and a message', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ keepVersions: 0, maxAgeDays: 30 }, /keepVersions must be >= 1/],
      [{ keepVersions: 10_001, maxAgeDays: 30 }, /keepVersions must be <= 10000/],
      [{ keepVersions: 10, maxAgeDays: -1 }, /maxAgeDays must be >= 0/],
      [{ keepVersions: 10, maxAgeDays: 36_501 }, /maxAgeDays must be <= 36500/],
      [{ keepVersions: 2.5, maxAgeDays: 30 }, /keepVersions must be integer/],
      [{ keepVersions: '10', maxAgeDays: 30 }, /keepVersions must be integer/],
      [{ keepVersions: 10 }, /must have required property 'maxAgeDays'/],
      [{ keepVersions: 10, maxAgeDays: 30, forever: true }, /"forever" is not a field here/]
    ]
    const before = web.api.policies.get('team-docs')
    for (const [body, message] of cases) {
      const response = await admin.request('PUT', '/api/v1/folders/team-docs/retention', body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(response.body.error.message, JSON.stringify(body)).toMatch(message)
    }
    expect(web.api.policies.get('team-docs')).toEqual(before)
  })

  it('stops showing a folder to a user once their device in it is revoked', async () => {
    expect((await bob.get('/api/v1/folders')).body.folders.map((f: Json) => f.id)).toEqual(['team-docs', 'bob-private'])
    expect((await admin.post('/api/v1/devices/bobdesktop000002/revoke')).status).toBe(200)
    expect((await bob.get('/api/v1/folders')).body.folders).toEqual([])
    expect((await bob.get('/api/v1/folders/team-docs/files')).status).toBe(404)
    expect((await restore(bob, 'budget.xlsx', justBefore('2030-01-02T10:00:01.000Z'))).status).toBe(404)
  })
})
