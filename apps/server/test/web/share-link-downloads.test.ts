import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readZip } from '../share/zip-reader.ts'
import { setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'
import { makeShare } from './share-helpers.ts'

/** A raw GET whose path is sent exactly as written (fetch would resolve `..` and `\` first). */
function rawGet (base: string, path: string): Promise<{ status: number, body: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString('latin1') }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('share links: downloads', () => {
  let web: RunningWebApp
  let admin: Client
  const big = randomBytes(300_000)
  const secret = Buffer.from('TOP SECRET: outside the shared directory')
  const oddName = 'Résumé "final" – 日本 (v2).pdf'

  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    const put = (path: string, bytes: Uint8Array) => web.api.contents.set(`team-docs/${path}`, bytes)
    put('media/big.bin', big)
    put(`media/${oddName}`, Buffer.from('pdf bytes'))
    put('media/sub/notes.txt', Buffer.from('deep notes\n'))
    put('media/empty.txt', Buffer.alloc(0))
    put('secret.txt', secret)
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('serves a file whole, with its type, name, length and the pages\' security headers', async () => {
    const { url, token, share } = await makeShare(admin, { folder: 'team-docs', path: 'media/big.bin' })
    expect(url).toBe(`${web.base}/s/${token}`)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(share).toMatchObject({ kind: 'file', name: 'big.bin', downloads: 0, state: 'active', hasPassword: false })

    const pageResponse = await fetch(url)
    expect(pageResponse.status).toBe(200)
    const html = await pageResponse.text()
    expect(html).toContain('big.bin')
    expect(html).toContain('300 KB')
    for (const h of [pageResponse.headers]) {
      expect(h.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/)
      expect(h.get('referrer-policy')).toBe('no-referrer')
      expect(h.get('x-content-type-options')).toBe('nosniff')
      expect(h.get('cache-control')).toBe('no-store')
    }
    // Nothing the page loads carries the token (only its own links do).
    const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(m => m[1]!).filter(u => !u.startsWith(`/s/${token}`))
    expect(loaded.every(u => !u.includes(token))).toBe(true)

    const download = await fetch(`${url}/download`)
    expect(download.status).toBe(200)
    expect(download.headers.get('content-type')).toBe('application/octet-stream')
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="big.bin"; filename*=UTF-8\'\'big.bin')
    expect(download.headers.get('accept-ranges')).toBe('bytes')
    expect(download.headers.get('content-length')).toBe(String(big.byteLength))
    expect(download.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
    expect(download.headers.get('referrer-policy')).toBe('no-referrer')
    expect(Buffer.from(await download.arrayBuffer()).equals(big)).toBe(true)
  })

  it('answers single, open-ended and suffix ranges with 206, and a bad one with 416', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'media/big.bin' })
    const get = (range: string) => fetch(`${url}/download`, { headers: { range } })
    const closed = await get('bytes=100-199')
    expect(closed.status).toBe(206)
    expect(closed.headers.get('content-range')).toBe(`bytes 100-199/${big.byteLength}`)
    expect(Buffer.from(await closed.arrayBuffer()).equals(big.subarray(100, 200))).toBe(true)
    const open = await get('bytes=299000-')
    expect(open.status).toBe(206)
    expect(open.headers.get('content-range')).toBe(`bytes 299000-299999/${big.byteLength}`)
    expect(Buffer.from(await open.arrayBuffer()).equals(big.subarray(299_000))).toBe(true)
    const suffix = await get('bytes=-500')
    expect(suffix.status).toBe(206)
    expect(Buffer.from(await suffix.arrayBuffer()).equals(big.subarray(-500))).toBe(true)
    for (const bad of ['bytes=300000-', 'bytes=500-100', 'bytes=0-1,5-9', 'pages=1-2', 'bytes=-0']) {
      const response = await get(bad)
      expect(response.status, bad).toBe(416)
      expect(response.headers.get('content-range'), bad).toBe(`bytes */${big.byteLength}`)
      expect(response.headers.get('content-disposition')).toBeNull()
    }
    // A resume with a stale validator gets the whole (current) file instead of a splice.
    const stale = await fetch(`${url}/download`, { headers: { range: 'bytes=100-', 'if-range': '"not-this-version"' } })
    expect(stale.status).toBe(200)
    expect((await stale.arrayBuffer()).byteLength).toBe(big.byteLength)
  })

  it('counts a download when it starts at the first byte, not resumes, seeks or HEAD', async () => {
    const { url, share } = await makeShare(admin, { folder: 'team-docs', path: 'media/big.bin' })
    await (await fetch(`${url}/download`)).arrayBuffer()
    await (await fetch(`${url}/download`, { headers: { range: 'bytes=1000-' } })).arrayBuffer()
    await fetch(`${url}/download`, { method: 'HEAD' })
    const listed = (await admin.get('/api/v1/shares')).body.shares.find((s: Json) => s.id === share.id)
    expect(listed.downloads).toBe(1)
    const audit = await admin.get('/api/v1/audit?action=share.accessed')
    expect(audit.body.entries.some((e: Json) => e.target === share.id && e.detail.path === 'media/big.bin')).toBe(true)
  })

  it('names any file right: unicode, quotes, spaces; types by extension', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: `media/${oddName}` })
    const response = await fetch(`${url}/download`)
    expect(response.headers.get('content-type')).toBe('application/pdf')
    const disposition = response.headers.get('content-disposition')!
    expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/)
    expect(disposition.slice(disposition.indexOf('filename="') + 10).split('"')[0]).not.toMatch(/["\\]/)
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe(oddName)
    expect(await response.text()).toBe('pdf bytes')
    const empty = await fetch(`${(await makeShare(admin, { folder: 'team-docs', path: 'media/empty.txt' })).url}/download`)
    expect(empty.status).toBe(200)
    expect(empty.headers.get('content-type')).toBe('text/plain')
    expect((await empty.arrayBuffer()).byteLength).toBe(0)
  })

  it('lists a folder link, serves its files and zips any directory of it', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'media' })
    const root = await (await fetch(url)).text()
    expect(root).toContain('big.bin')
    expect(root).toContain('sub/')
    expect(root).toContain('&quot;final&quot;')
    expect(root).not.toContain('secret.txt')
    const sub = await fetch(`${url}/browse/sub`)
    expect(sub.status).toBe(200)
    expect(await sub.text()).toContain('notes.txt')
    expect(await (await fetch(`${url}/download/sub/notes.txt`)).text()).toBe('deep notes\n')
    expect(await (await fetch(`${url}/download/${encodeURIComponent(oddName)}`)).text()).toBe('pdf bytes')

    const zip = await fetch(`${url}/download`)
    expect(zip.status).toBe(200)
    expect(zip.headers.get('content-type')).toBe('application/zip')
    expect(zip.headers.get('content-disposition')).toMatch(/filename="media.zip"/)
    const entries = readZip(Buffer.from(await zip.arrayBuffer()))
    expect(entries.map(e => e.name).sort()).toEqual([oddName, 'big.bin', 'empty.txt', 'sub/notes.txt'].sort())
    expect(entries.find(e => e.name === 'big.bin')!.data.equals(big)).toBe(true)
    const subZip = readZip(Buffer.from(await (await fetch(`${url}/download/sub`)).arrayBuffer()))
    expect(subZip.map(e => e.name)).toEqual(['notes.txt'])
  })

  it('never serves anything outside a folder link\'s directory: 404, and nothing of it in the answer', async () => {
    const { token } = await makeShare(admin, { folder: 'team-docs', path: 'media' })
    const attempts = [
      '../secret.txt', '..%2Fsecret.txt', '%2e%2e/secret.txt', '%2E%2E%2Fsecret.txt', 'sub/../../secret.txt', 'sub%2F..%2F..%2Fsecret.txt',
      '..\\secret.txt', '..%5Csecret.txt', '%5C..%5Csecret.txt', '/secret.txt', '%2Fsecret.txt', '//team-docs/secret.txt',
      'sub/notes.txt%00', '%00', 'C:secret.txt', './big.bin', '.%2Fbig.bin', 'sub/./notes.txt'
    ]
    for (const kind of ['download', 'browse']) {
      for (const attempt of attempts) {
        const response = await rawGet(web.base, `/s/${token}/${kind}/${attempt}`)
        expect(response.status, `${kind}/${attempt}`).toBe(404)
        expect(response.body).not.toContain(secret.toString())
      }
    }
    // The path of a file link takes nothing after it.
    const file = await makeShare(admin, { folder: 'team-docs', path: 'media/big.bin' })
    expect((await rawGet(web.base, `/s/${file.token}/download/../../secret.txt`)).status).toBe(404)
  })

  it('answers an unknown or malformed token with 404', async () => {
    for (const path of ['/s/' + 'A'.repeat(43), '/s/short', '/s/' + 'A'.repeat(43) + '/download', '/s/%2e%2e']) {
      const response = await rawGet(web.base, path)
      expect(response.status, path).toBe(404)
      expect(response.body).toMatch(/no such link/)
    }
  })

  it('serves a snapshot link\'s file as it was when the link was made, until the history lets that version go (410)', async () => {
    await web.api.writeFile('team-docs', 'frozen.txt', (async function * () { yield Buffer.from('version one') })(), { by: 'test' })
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'frozen.txt', snapshot: true })
    const live = await makeShare(admin, { folder: 'team-docs', path: 'frozen.txt' })
    expect(await (await fetch(`${url}/download`)).text()).toBe('version one')
    await web.api.writeFile('team-docs', 'frozen.txt', (async function * () { yield Buffer.from('version two!') })(), { by: 'test' })
    expect(await (await fetch(`${url}/download`)).text()).toBe('version one')
    expect(await (await fetch(`${live.url}/download`)).text()).toBe('version two!')
    web.api.kept.delete('team-docs/frozen.txt') // pruned by retention
    const gone = await fetch(`${url}/download`)
    expect(gone.status).toBe(410)
    expect(await gone.text()).toMatch(/no longer kept/)
  })

  it('freezes a folder snapshot: files added later are not there, changed ones are served as they were, pruned ones are left out and said so', async () => {
    const write = (path: string, text: string) => web.api.writeFile('team-docs', path, (async function * () { yield Buffer.from(text) })(), { by: 'test' })
    await write('snap/a.txt', 'a one')
    await write('snap/b.txt', 'b one')
    await write('snap/d.txt', 'd one')
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'snap', snapshot: true })
    await write('snap/b.txt', 'b two')
    await write('snap/c.txt', 'c new')
    await write('snap/d.txt', 'd two')
    web.api.kept.delete('team-docs/snap/d.txt')
    const page = await (await fetch(url)).text()
    expect(page).toContain('a.txt')
    expect(page).toContain('b.txt')
    expect(page).not.toContain('c.txt')
    expect(page).not.toContain('d.txt')
    expect(page).toMatch(/1 file of this snapshot is no longer kept/)
    const zip = readZip(Buffer.from(await (await fetch(`${url}/download`)).arrayBuffer()))
    expect(zip.map(e => [e.name, e.data.toString()])).toEqual([['a.txt', 'a one'], ['b.txt', 'b one']])
    expect(await (await fetch(`${url}/download/b.txt`)).text()).toBe('b one')
    for (const path of ['c.txt', 'd.txt']) expect((await fetch(`${url}/download/${path}`)).status).toBe(404)
  })

  it('answers HEAD with the headers of a download, without counting it', async () => {
    const { url, share } = await makeShare(admin, { folder: 'team-docs', path: 'media/big.bin', maxDownloads: 1 })
    const head = await fetch(`${url}/download`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(big.byteLength))
    expect(head.headers.get('accept-ranges')).toBe('bytes')
    expect((await admin.get('/api/v1/shares')).body.shares.find((s: Json) => s.id === share.id).downloads).toBe(0)
    expect((await fetch(`${url}/download`)).status).toBe(200)
  })
})
