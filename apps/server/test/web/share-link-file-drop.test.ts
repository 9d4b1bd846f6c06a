import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'
import { makeShare } from './share-helpers.ts'

const upload = (url: string, name: string | undefined, body: string | Uint8Array, headers: Record<string, string> = {}) => fetch(`${url}/upload`, {
  method: 'POST',
  headers: { 'content-type': 'application/octet-stream', ...(name === undefined ? {} : { 'x-file-name': encodeURIComponent(name) }), ...headers },
  body
})
const json = async (response: Response | Promise<Response>): Promise<Json> => await (await response).json()

describe('share links: upload-only links (file drops)', () => {
  let web: RunningWebApp
  let admin: Client
  let drop: { url: string, token: string, share: Json }
  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    web.api.contents.set('team-docs/inbox/existing.pdf', Buffer.from('already here'))
    drop = await makeShare(admin, { folder: 'team-docs', path: 'inbox', uploadOnly: true, maxUploadBytes: 1000 })
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('takes an upload as a change to the folder, audited', async () => {
    const response = await upload(drop.url, 'hello world.txt', 'hi there')
    expect(response.status).toBe(201)
    expect(await json(response)).toEqual({ name: 'hello world.txt', size: 8 })
    expect(Buffer.from(web.api.contents.get('team-docs/inbox/hello world.txt')!).toString()).toBe('hi there')
    const audit = (await admin.get('/api/v1/audit?action=share.uploaded')).body.entries
    expect(audit[0]).toMatchObject({ actor: 'anonymous', target: drop.share.id, detail: { path: 'inbox/hello world.txt', size: 8 } })
  })

  it('never overwrites: a taken name gets a number', async () => {
    const names: string[] = []
    for (let i = 0; i < 3; i++) names.push((await json(upload(drop.url, 'existing.pdf', `copy ${i}`))).name)
    expect(names).toEqual(['existing (2).pdf', 'existing (3).pdf', 'existing (4).pdf'])
    expect(Buffer.from(web.api.contents.get('team-docs/inbox/existing.pdf')!).toString()).toBe('already here')
    expect(Buffer.from(web.api.contents.get('team-docs/inbox/existing (3).pdf')!).toString()).toBe('copy 1')
  })

  it('keeps names inside the directory and harmless', async () => {
    expect((await json(upload(drop.url, '../../secret.txt', 'x'))).name).toBe('secret.txt')
    expect(web.api.contents.has('team-docs/inbox/secret.txt')).toBe(true)
    expect((await json(upload(drop.url, 'C:\\Users\\eve\\a<b>.txt', 'x'))).name).toBe('a_b_.txt')
    expect((await json(upload(drop.url, 'Résumé "v2".pdf', 'x'))).name).toBe('Résumé _v2_.pdf')
    const missing = await upload(drop.url, undefined, 'x')
    expect(missing.status).toBe(400)
    expect((await json(missing)).error.message).toMatch(/X-File-Name/)
  })

  it('refuses an upload over the limit (413) and keeps nothing of it, declared or streamed', async () => {
    const declared = await upload(drop.url, 'big.bin', Buffer.alloc(1001))
    expect(declared.status).toBe(413)
    expect((await json(declared)).error.code).toBe('ERR_TOO_LARGE')
    // Without a length up front, the limit is found while streaming.
    const stream = new ReadableStream<Uint8Array>({
      start (controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(300))
        controller.close()
      }
    })
    const streamed = await fetch(`${drop.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-file-name': 'streamed.bin' },
      body: stream,
      duplex: 'half'
    } as RequestInit)
    expect(streamed.status).toBe(413)
    expect([...web.api.contents.keys()].filter(k => k.includes('big.bin') || k.includes('streamed.bin'))).toEqual([])
    expect((await upload(drop.url, 'exactly.bin', Buffer.alloc(1000))).status).toBe(201)
  })

  it('shows a file picker and nothing of the folder; refuses listing and downloads', async () => {
    const page = await fetch(drop.url)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('id="drop-form"')
    expect(html).toContain('src="/share-drop.js"')
    expect(html).not.toContain('existing')
    expect(html).not.toContain('hello world')
    for (const path of ['/download', '/download/existing.pdf', '/browse/', '/browse/x']) {
      const response = await fetch(`${drop.url}${path}`)
      expect([403, 404], path).toContain(response.status)
      expect(await response.text()).not.toContain('already here')
    }
  })

  it('refuses uploads to a link that is not a file drop, and file drops from viewers', async () => {
    const normal = await makeShare(admin, { folder: 'team-docs', path: 'inbox' })
    expect((await upload(normal.url, 'x.txt', 'x')).status).toBe(403)
    web.api.folderList[0]!.members.push({ deviceId: 'carolphone000003', role: 'viewer' })
    web.api.deviceList.push({ deviceId: 'carolphone000003', deviceName: 'Carol', user: 'carol@example.org', issuedAt: '2030-01-01T00:00:00.000Z', online: false })
    const carol = await addUser(admin, 'carol@example.org')
    const refused = await carol.post('/api/v1/shares', { folder: 'team-docs', path: 'inbox', uploadOnly: true, expiresIn: 600 })
    expect(refused.status).toBe(403)
    expect((await carol.post('/api/v1/shares', { folder: 'team-docs', path: 'inbox', expiresIn: 600 })).status).toBe(200)
    const fileDrop = await admin.post('/api/v1/shares', { folder: 'team-docs', path: 'inbox/existing.pdf', uploadOnly: true, expiresIn: 600 })
    expect(fileDrop.body.error.message).toMatch(/needs a folder/)
  })
})
