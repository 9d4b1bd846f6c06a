import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUiServer } from '../src/node/ui/ui-server.ts'
import type { UiServer } from '../src/node/ui/ui-server.ts'

const SECRET = 'a'.repeat(43)

/** node:http, not fetch: fetch will not send a Host or Origin of our choosing. */
async function call (url: string, options: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode!, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

// The UI server lets in only a client that shows the secret, only at its own address, and
// never on behalf of another site.
describe('the UI server', () => {
  let dir: string
  let server: UiServer
  let changed = (): void => {}
  const calls: unknown[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-ui-'))
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>')
    await writeFile(join(dir, 'app.js'), 'export {}')
    await writeFile(join(dir, 'notes.txt'), 'not served')
    server = await startUiServer({
      secret: SECRET,
      staticDir: dir,
      routes: {
        'GET /api/v1/status': async () => ({ ok: true }),
        'POST /api/v1/folders/rescan': async ({ body }) => { calls.push(body); return { done: true } }
      },
      snapshot: async () => ({ at: calls.length }),
      subscribe: (onChange) => { changed = onChange; return () => {} }
    })
  })
  afterAll(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  const bearer = { authorization: `Bearer ${SECRET}` }

  it('serves the page with a CSP that allows no inline script, and nothing outside its files', async () => {
    const page = await call(`${server.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline')
    expect((await call(`${server.url}/notes.txt`)).status).toBe(404)
    expect((await call(`${server.url}/../../etc/passwd`)).status).toBe(404)
  })

  it('serves the QR decoder as one known file of its package, and nothing else of node_modules', async () => {
    const decoder = await call(`${server.url}/vendor/jsqr.js`)
    expect(decoder.status).toBe(200)
    expect(decoder.headers['content-type']).toMatch(/^text\/javascript/)
    expect(decoder.body).toContain('jsQR')
    expect((await call(`${server.url}/vendor/package.json`)).status).toBe(404)
    expect((await call(`${server.url}/node_modules/jsqr/dist/jsQR.js`)).status).toBe(404)
  })

  it('refuses the API without the secret, and with a wrong one', async () => {
    expect((await call(`${server.url}/api/v1/status`)).status).toBe(401)
    expect((await call(`${server.url}/api/v1/status`, { headers: { authorization: `Bearer ${'b'.repeat(43)}` } })).status).toBe(401)
    expect((await call(`${server.url}/api/v1/events`)).status).toBe(401)
    expect(JSON.parse((await call(`${server.url}/api/v1/status`, { headers: bearer })).body)).toEqual({ ok: true })
  })

  it('refuses another Host (DNS rebinding), even with the secret; localhost is fine', async () => {
    const port = new URL(server.url).port
    const rebound = await call(`${server.url}/api/v1/status`, { headers: { ...bearer, host: `evil.example:${port}` } })
    expect(rebound.status).toBe(421)
    expect((await call(`${server.url}/`, { headers: { host: 'evil.example' } })).status).toBe(421)
    expect((await call(`${server.url}/api/v1/status`, { headers: { ...bearer, host: `localhost:${port}` } })).status).toBe(200)
  })

  it('refuses a foreign Origin and cross-site fetches, even with the secret', async () => {
    expect((await call(`${server.url}/api/v1/status`, { headers: { ...bearer, origin: 'http://evil.example' } })).status).toBe(403)
    expect((await call(`${server.url}/api/v1/status`, { headers: { ...bearer, origin: 'http://127.0.0.1:1' } })).status).toBe(403)
    expect((await call(`${server.url}/api/v1/status`, { headers: { ...bearer, 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
  })

  it('gives a browser that posts the secret from our own page an HttpOnly SameSite=Strict session', async () => {
    const origin = server.url
    const json = { 'content-type': 'application/json' }
    expect((await call(`${server.url}/api/v1/session`, { method: 'POST', headers: { ...json, origin }, body: JSON.stringify({ secret: 'nope' }) })).status).toBe(401)
    // Without Origin (not from a page) no cookie is handed out.
    expect((await call(`${server.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ secret: SECRET }) })).status).toBe(401)
    const login = await call(`${server.url}/api/v1/session`, { method: 'POST', headers: { ...json, origin }, body: JSON.stringify({ secret: SECRET }) })
    expect(login.status).toBe(200)
    const cookie = String(login.headers['set-cookie']).split(';')[0]!
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/)
    expect(cookie).not.toContain(SECRET)
    expect((await call(`${server.url}/api/v1/status`, { headers: { cookie } })).status).toBe(200)
    // A change borne by the cookie alone must come from our page, as JSON.
    const body = JSON.stringify({ id: 'docs' })
    expect((await call(`${server.url}/api/v1/folders/rescan`, { method: 'POST', headers: { cookie, ...json }, body })).status).toBe(403)
    expect((await call(`${server.url}/api/v1/folders/rescan`, { method: 'POST', headers: { cookie, origin, 'content-type': 'text/plain' }, body })).status).toBe(415)
    expect(calls).toEqual([])
    expect((await call(`${server.url}/api/v1/folders/rescan`, { method: 'POST', headers: { cookie, origin, ...json }, body })).status).toBe(200)
    expect(calls).toEqual([{ id: 'docs' }])
  })

  it('pushes the status to an event stream at once and after a change', async () => {
    const controller = new AbortController()
    const res = await fetch(`${server.url}/api/v1/events`, { headers: bearer, signal: controller.signal })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    const until = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 50 && !pattern.test(text); i++) text += new TextDecoder().decode((await reader.read()).value)
    }
    await until(/event: status\ndata: \{"at":1\}/)
    calls.push('another')
    changed()
    await until(/data: \{"at":2\}/)
    expect(text).toMatch(/data: \{"at":2\}/)
    controller.abort()
  })
})
