import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'

describe('sharing a folder with a user from the console', () => {
  let web: RunningWebApp
  let admin: Client
  let carol: Client

  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    carol = await addUser(admin, 'carol@example.org')
    web.api.deviceList.push({ deviceId: 'carolphone000003', deviceName: "Carol's phone", user: 'carol@example.org', issuedAt: '2030-01-03T00:00:00.000Z', online: false })
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('grants every device of a user a role, which shows the folder to that user, and takes it back', async () => {
    expect((await carol.get('/api/v1/folders')).body.folders).toEqual([])
    const granted = await admin.request('PUT', '/api/v1/folders/bob-private/users/Carol%40example.org', { role: 'viewer' })
    expect(granted.status).toBe(200)
    expect(granted.body.folder.users).toEqual([{ user: 'carol@example.org', role: 'viewer' }])
    expect(web.api.memberChanges.at(-1)).toEqual({ folder: 'bob-private', deviceId: 'user:carol@example.org', role: 'viewer' })
    expect((await carol.get('/api/v1/folders')).body.folders.map((f: Json) => f.id)).toEqual(['bob-private'])
    const audit = (await admin.get('/api/v1/audit?action=folder.user_set')).body.entries
    expect(audit[0]).toMatchObject({ target: 'bob-private', detail: { user: 'carol@example.org', role: 'viewer' } })

    expect((await admin.request('DELETE', '/api/v1/folders/bob-private/users/carol%40example.org')).status).toBe(200)
    expect((await carol.get('/api/v1/folders')).body.folders).toEqual([])
    expect((await admin.request('DELETE', '/api/v1/folders/bob-private/users/carol%40example.org')).status).toBe(404)
  })

  it('refuses a malformed email, an unknown folder, and anyone but an admin', async () => {
    expect((await admin.request('PUT', '/api/v1/folders/bob-private/users/not-an-email', { role: 'viewer' })).status).toBe(400)
    expect((await admin.request('PUT', '/api/v1/folders/nope/users/carol%40example.org', { role: 'viewer' })).status).toBe(404)
    expect((await admin.request('PUT', '/api/v1/folders/bob-private/users/carol%40example.org', { role: 'owner' })).status).toBe(400)
    expect((await carol.request('PUT', '/api/v1/folders/bob-private/users/carol%40example.org', { role: 'editor' })).status).toBe(403)
  })
})
